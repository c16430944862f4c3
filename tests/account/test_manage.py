"""Managing a recurring gift: each change goes to Stripe and shows only once its webhook lands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import format_date

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
    assert post(client, gift, "change", amount="12.50", interval="month").status_code == 303
    assert (fresh(gift).amount, fresh(gift).interval) == (1000, Interval.MONTH)
    sandbox.webhooks.release()
    assert (fresh(gift).amount, fresh(gift).interval) == (1250, Interval.MONTH)


def invoices(gift: RecurringDonation) -> list:
    found = stripe_api.client().v1.invoices.list(
        params={"subscription": gift.stripe_subscription_id}
    )
    return found.data


def test_switching_to_annual_proposes_twelve_times_and_charges_only_when_the_month_ends(
    client, gift, sandbox
):
    """Before: the interval went onto the subscription, which Stripe invoices at once (a
    second charge the same day), and $10 a month silently became $10 a year."""
    period_end = fresh(gift).current_period_end
    asked = post(client, gift, "change", amount="10", interval="year")
    assert asked.status_code == 200  # a proposal to confirm; nothing sent to Stripe yet
    assert "$120.00 a year gives as much as your $10.00 a month" in asked.text
    assert "Confirm: $120.00 every year" in asked.text
    assert format_date(period_end) in asked.text
    assert stripe_api.retrieve_subscription(gift.stripe_subscription_id)["schedule"] is None

    confirmed = post(client, gift, "change", amount="120", interval="year", confirmed="year")
    assert confirmed.status_code == 303
    row = fresh(gift)
    assert (row.amount, row.interval) == (1000, Interval.MONTH)  # until the month ends
    assert (row.scheduled_amount, row.scheduled_interval) == (12000, Interval.YEAR)
    assert row.scheduled_from == period_end
    assert len(invoices(gift)) == 1  # no charge before the paid month ends
    page = client.get(confirmed.headers["Location"]).text
    assert f"As you asked: from {format_date(period_end)}, $120.00 every year." in page

    sandbox.advance(days=32)
    row = fresh(gift)
    assert (row.amount, row.interval, row.scheduled_amount) == (12000, Interval.YEAR, None)
    assert [i.amount_paid for i in invoices(gift)] == [12000, 1000]
    assert invoices(gift)[0].created == int(period_end.timestamp())
    sandbox.advance(days=370)  # the schedule released, the gift renews on its own each year
    assert [i.amount_paid for i in invoices(gift)] == [12000, 12000, 1000]
    assert stripe_api.retrieve_subscription(gift.stripe_subscription_id)["schedule"] is None


def test_switching_an_annual_gift_to_monthly_proposes_a_twelfth(client, donor, sandbox):
    member = donor(frequency="year", amount=12000, email="annual@example.org")
    sign_in(client, member)
    gift = one(RecurringDonation)
    asked = post(client, gift, "change", amount="120", interval="month")
    assert "$10.00 a month gives as much as your $120.00 a year" in asked.text
    assert (
        post(client, gift, "change", amount="10", interval="month", confirmed="month").status_code
        == 303
    )
    assert (fresh(gift).scheduled_amount, fresh(gift).scheduled_interval) == (1000, Interval.MONTH)


def test_a_typed_amount_is_kept_and_a_second_change_replaces_the_first(client, gift, sandbox):
    asked = post(client, gift, "change", amount="100", interval="year")
    assert "gives as much" not in asked.text and "Confirm: $100.00 every year" in asked.text
    post(client, gift, "change", amount="100", interval="year", confirmed="year")
    post(client, gift, "change", amount="150", interval="year", confirmed="year")
    assert fresh(gift).scheduled_amount == 15000
    released = sandbox.events("subscription_schedule.released")
    assert len(released) == 1  # the first schedule, replaced
    # Back to a monthly amount now: no schedule left, nothing pending.
    post(client, gift, "change", amount="12", interval="month")
    row = fresh(gift)
    assert (row.amount, row.interval, row.scheduled_amount) == (1200, Interval.MONTH, None)


def test_cancelling_drops_a_change_scheduled_for_the_next_period(client, gift, sandbox):
    post(client, gift, "change", amount="120", interval="year", confirmed="year")
    assert post(client, gift, "cancel", comment="").status_code == 303
    row = fresh(gift)
    assert row.cancel_at_period_end and row.scheduled_amount is None
    sandbox.advance(days=32)
    assert fresh(gift).status == SubscriptionStatus.CANCELED
    assert len(invoices(gift)) == 1


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
