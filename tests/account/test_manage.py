"""Managing a recurring gift: each change goes to Stripe and shows only once its webhook lands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from membership import stripe_api
from membership.extensions import db
from membership.members.services import add_months
from membership.models import Interval, RecurringDonation, SubscriptionStatus
from tests.account.conftest import sign_in
from tests.factories import make_member, make_recurring
from tests.webhooks.conftest import one, stripe_forgets, stripe_unreachable

pytestmark = pytest.mark.usefixtures("app_context")


@pytest.fixture
def gift(client, donor):
    member = donor()
    sign_in(client, member)
    return one(RecurringDonation)


def post(client, gift, action, **data):
    return client.post(f"/account/gifts/{gift.id}/{action}", data=data)


def fresh(gift: RecurringDonation) -> RecurringDonation:
    db.session.expire_all()
    return db.session.get(RecurringDonation, gift.id)


def test_changing_the_amount_shows_after_the_webhook(client, gift):
    response = post(client, gift, "change", amount="15", interval="month")
    assert response.status_code == 303
    assert (fresh(gift).amount, fresh(gift).interval) == (1500, Interval.MONTH)
    assert "$15.00 every month" in client.get(response.headers["Location"]).text


def test_nothing_changes_locally_until_stripe_confirms(client, gift, sandbox):
    sandbox.webhooks.hold()
    assert post(client, gift, "change", amount="12.50", interval="year").status_code == 303
    assert (fresh(gift).amount, fresh(gift).interval) == (1000, Interval.MONTH)
    sandbox.webhooks.release()
    assert (fresh(gift).amount, fresh(gift).interval) == (1250, Interval.YEAR)


def test_switching_to_annual_keeps_the_amount(client, gift, sandbox):
    assert post(client, gift, "change", amount="10", interval="year").status_code == 303
    assert fresh(gift).interval == Interval.YEAR
    sub = stripe_api.retrieve_subscription(gift.stripe_subscription_id)
    assert sub["items"]["data"][0]["price"]["recurring"]["interval"] == "year"


def test_pause_for_two_months_then_resume(client, gift, sandbox):
    before = datetime.now(UTC)
    assert post(client, gift, "pause", months="2").status_code == 303
    paused_until = fresh(gift).paused_until
    assert paused_until is not None
    assert add_months(before, 2).replace(microsecond=0) <= paused_until
    sub = stripe_api.retrieve_subscription(gift.stripe_subscription_id)
    assert sub["pause_collection"]["behavior"] == "void"
    assert "Paused until" in client.get("/account/home").text
    assert post(client, gift, "resume").status_code == 303
    assert fresh(gift).paused_until is None


@pytest.mark.parametrize("months", ["0", "4", "x"])
def test_pauses_are_one_to_three_months(client, gift, sandbox, months):
    events = len(sandbox.events())
    assert post(client, gift, "pause", months=months).status_code == 422
    assert len(sandbox.events()) == events


def test_cancel_at_period_end_keeps_the_gift_until_then(client, gift, sandbox):
    assert post(client, gift, "cancel", comment="").status_code == 303
    row = fresh(gift)
    assert row.cancel_at_period_end and row.status == SubscriptionStatus.ACTIVE
    assert "Ends on" in client.get("/account/home").text
    sandbox.advance(days=32)
    assert fresh(gift).status == SubscriptionStatus.CANCELED


@pytest.mark.parametrize("how", ["canceled at Stripe", "customer deleted at Stripe"])
def test_cancelling_a_gift_stripe_has_already_ended_is_done_not_an_error(
    app, client, gift, sandbox, how
):
    """Stripe refuses (400 for an update of a canceled subscription); we read it again and
    see it ended, so the donor is not told to try later for something that is done."""
    sandbox.webhooks.hold()
    if how == "canceled at Stripe":
        stripe_api.client().v1.subscriptions.cancel(gift.stripe_subscription_id)
    else:
        stripe_api.client().v1.customers.delete(gift.member.stripe_customer_id)
    response = post(client, gift, "cancel", comment="")
    assert response.status_code == 303
    assert "nothing was changed" not in client.get(response.headers["Location"]).text
    sandbox.webhooks.release()
    assert fresh(gift).status == SubscriptionStatus.CANCELED


def test_a_cancel_stripe_cannot_be_reached_for_is_refused(app, client, gift):
    with stripe_unreachable(app):
        assert post(client, gift, "cancel", comment="").status_code == 502
    assert not fresh(gift).cancel_at_period_end


def test_a_cancellation_reason_goes_to_stripe_and_is_not_stored(client, gift, sandbox):
    assert post(client, gift, "cancel", comment="Money is tight").status_code == 303
    sub = stripe_api.retrieve_subscription(gift.stripe_subscription_id)
    assert sub["cancel_at_period_end"] is True
    assert sub["cancellation_details"]["comment"] == "Money is tight"
    sandbox.advance(days=32)
    row = fresh(gift)
    assert row.status == SubscriptionStatus.CANCELED
    assert row.cancellation_reason == "cancellation_requested", "Stripe's reason, not the words"


def test_updating_the_card_redirects_to_stripes_billing_portal(client, gift):
    response = client.post("/account/card")
    assert response.status_code == 303
    assert "/sandbox/portal/bps_" in response.headers["Location"]


@pytest.mark.parametrize(
    ("amount", "interval"),
    [("2", "month"), ("10001", "month"), ("ten", "month"), ("10.555", "month"), ("10", "week")],
)
def test_invalid_changes_never_reach_stripe(client, gift, sandbox, amount, interval):
    events = len(sandbox.events())
    response = post(client, gift, "change", amount=amount, interval=interval)
    assert response.status_code == 422
    assert len(sandbox.events()) == events
    assert fresh(gift).amount == 1000


def test_another_donors_gift_is_not_found(client, gift):
    stranger = make_recurring(make_member())
    assert client.get(f"/account/gifts/{stranger.id}").status_code == 404
    response = client.post(f"/account/gifts/{stranger.id}/cancel", data={"comment": ""})
    assert response.status_code == 404
    assert not fresh(stranger).cancel_at_period_end


def test_stripe_errors_become_a_friendly_message(app, client, gift):
    with stripe_forgets(app):
        response = post(client, gift, "change", amount="20", interval="month")
        assert response.status_code == 502
        assert "nothing was changed" in response.text
        assert post(client, gift, "pause", months="1").status_code == 502
        portal = client.post("/account/card")
        assert portal.status_code == 303 and portal.headers["Location"].endswith("/home")
    assert fresh(gift).amount == 1000


def test_managing_needs_a_signed_in_donor(app, gift):
    response = app.test_client().post(f"/account/gifts/{gift.id}/cancel", data={})
    assert response.status_code == 302
    assert not fresh(gift).cancel_at_period_end
