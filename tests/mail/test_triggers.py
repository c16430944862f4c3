"""Which emails real gifts queue, through the sandbox's Stripe and the real webhook handlers."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest

from membership import stripe_api
from membership.extensions import db
from membership.mail.card_expiry import queue_card_expiry
from membership.mail.render import render
from membership.models import Member, OutboxEmail, RecurringDonation
from tests.factories import make_member
from tests.webhooks.conftest import DECLINING_CARD, one, rows

pytestmark = pytest.mark.usefixtures("app_context")


def templates() -> list[str]:
    return [email.template for email in rows(OutboxEmail)]


def test_a_one_off_gift_queues_a_thank_you_receipt(sandbox, checkout) -> None:
    session, _ = checkout("one_off", 2500, "EUR", locale="ru")
    sandbox.pay(session.id, email="once@example.org")
    receipt = one(OutboxEmail)
    assert receipt.template == "receipt"
    assert receipt.to_address == "once@example.org"
    rendered = render(receipt)  # in the member's language, chosen on the form
    assert rendered.locale == "ru" and "25,00" in rendered.text


def test_a_renewal_queues_a_renewal_receipt(sandbox, checkout) -> None:
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="monthly@example.org")
    assert templates() == ["receipt"]
    sandbox.advance(days=32)
    assert templates() == ["receipt", "renewal_receipt"]
    renewal = rows(OutboxEmail)[1]
    assert "this month's gift of $10.00" in render(renewal).text


def test_renewal_receipts_can_be_turned_off(app, sandbox, checkout) -> None:
    app.config["MAIL_RENEWAL_RECEIPTS"] = False
    session, _ = checkout("year", 6000, "USD")
    sandbox.pay(session.id, email="yearly@example.org")
    sandbox.advance(days=370)
    assert templates() == ["receipt"]  # the first gift still gets its thank-you


def test_a_failed_renewal_mails_a_sign_in_link_to_update_the_card(
    app, client, sandbox, checkout
) -> None:
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="declined@example.org")
    sandbox.set_card(one(Member).stripe_customer_id, DECLINING_CARD)
    sandbox.advance(days=31)
    [failed] = [e for e in rows(OutboxEmail) if e.template == "payment_failed"]
    rendered = render(failed)
    db.session.commit()  # as the sender does, with the email marked sent
    assert "$10.00 a month" in rendered.text
    [link] = re.findall(r"http://localhost(/account/sign-in/\S+)", rendered.text)
    assert client.post(link).status_code == 303, "the emailed link signs the donor in"
    home = client.get("/account/home")
    assert home.status_code == 200 and "$10.00" in home.text
    assert client.post(link).status_code != 303, "and works only once"


def test_the_card_link_outlives_a_sign_in_link_but_not_its_own_window(app) -> None:
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from membership.account import tokens

    def signed(data: dict, hours_ago: int) -> str:
        """A link as if it had been mailed `hours_ago` hours ago (no waiting, no clock tricks)."""

        class Earlier(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(time.time()) - hours_ago * 3600

        signer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=tokens.SALT, signer=Earlier)
        return signer.dumps(data)

    member = make_member(email="late.reader@example.org")
    data = {"m": member.public_id, "n": tokens.ensure_nonce(member)}
    db.session.commit()
    card = data | {"p": tokens.CARD_PURPOSE}
    assert tokens.link_member(signed(card, 48)) is not None
    assert tokens.link_member(signed(data, 48)) is None, "an ordinary link lasts 30 minutes"
    assert tokens.link_member(signed(card, 73)) is None, "a card link lasts CARD_LINK_HOURS (72)"


def test_cancelling_at_period_end_is_confirmed_once(sandbox, checkout) -> None:
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="leaving@example.org")
    sub_id = one(RecurringDonation).stripe_subscription_id
    stripe_api.client().v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    [notice] = [e for e in rows(OutboxEmail) if e.template == "cancellation"]
    assert notice.context["state"] == "scheduled"
    assert "will not renew" in render(notice).text

    sandbox.advance(days=31)  # it ends as announced: no second email
    assert [e.template for e in rows(OutboxEmail)].count("cancellation") == 1


def test_an_immediate_cancellation_is_confirmed(sandbox, checkout) -> None:
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="now@example.org")
    stripe_api.client().v1.subscriptions.cancel(one(RecurringDonation).stripe_subscription_id)
    [notice] = [e for e in rows(OutboxEmail) if e.template == "cancellation"]
    assert notice.context["state"] == "canceled"
    assert "has been cancelled" in render(notice).text


def test_a_card_expiring_next_month_is_mentioned_once(sandbox, checkout) -> None:
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="card@example.org")  # sandbox cards expire 12/2034
    assert queue_card_expiry(date(2034, 1, 15)) == 0
    assert queue_card_expiry(date(2034, 11, 3)) == 1
    assert queue_card_expiry(date(2034, 12, 1)) == 0  # same card, same expiry: already told
    [reminder] = [e for e in rows(OutboxEmail) if e.template == "card_expiring"]
    assert reminder.context == {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034}
    assert "Visa card ending in 4242" in render(reminder).text


def test_no_card_reminder_for_a_gift_that_is_ending(sandbox, checkout) -> None:
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="ending@example.org")
    sub_id = one(RecurringDonation).stripe_subscription_id
    stripe_api.client().v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    assert queue_card_expiry(date(2034, 12, 1)) == 0


def test_the_card_expiry_command(runner, sandbox, checkout) -> None:
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="cli@example.org")
    result = runner.invoke(args=["outbox", "card-expiry", "--today", "2034-12-01"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "queued: 1"
