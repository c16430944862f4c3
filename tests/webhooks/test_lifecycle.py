"""A gift's life through Stripe's real event sequences: checkout, renewals, dunning, refunds."""

from __future__ import annotations

import copy
import logging

import pytest

from membership import stripe_api
from membership.models import (
    CheckoutAttempt,
    Donation,
    DonationKind,
    DonationStatus,
    Member,
    MemberStatus,
    OutboxEmail,
    RecurringDonation,
    SubscriptionStatus,
)
from tests.factories import make_campaign
from tests.webhooks.conftest import (
    DECLINING_CARD,
    FAILING_IBAN,
    GOOD_IBAN,
    deliver,
    giving_of,
    one,
    rows,
    stripe_unreachable,
)

pytestmark = pytest.mark.usefixtures("app_context")

ARTICLE = "https://news.example/2026/11/budget-investigation"


def test_one_off_gift_makes_an_attributed_active_member_with_fee_and_receipt(sandbox, checkout):
    campaign = make_campaign()
    session, attempt = checkout(
        "one_off",
        2500,
        "EUR",
        article_url=ARTICLE,
        utm_source="newsletter",
        campaign_id=campaign.id,
        newsletter_consent=True,
        locale="ru",
    )
    sandbox.pay(session.id, email="  Reader@Example.COM ")

    member = one(Member)
    assert member.email == "reader@example.com"
    assert member.status == MemberStatus.ACTIVE and member.tier == "supporter"
    assert member.locale == "ru" and member.newsletter_consent
    assert member.active_until is not None
    donation = one(Donation)
    assert (donation.kind, donation.status) == (DonationKind.ONE_OFF, DonationStatus.SUCCEEDED)
    assert (donation.amount, donation.currency) == (2500, "EUR")
    assert (donation.fee, donation.net, donation.settlement_currency) == (103, 2397, "EUR")
    assert donation.article_url == ARTICLE and donation.utm_source == "newsletter"
    assert donation.campaign_id == campaign.id
    attempt = one(CheckoutAttempt)
    assert attempt.state == "completed" and attempt.member_id == member.id
    [receipt] = rows(OutboxEmail)
    assert receipt.template == "receipt"
    assert receipt.dedupe_key == f"receipt:{donation.stripe_payment_intent_id}"


def test_monthly_gift_renews_and_each_invoice_is_one_donation(sandbox, checkout):
    session, _ = checkout("month", 1000, "USD", article_url=ARTICLE)
    sandbox.pay(session.id, email="monthly@example.org")
    recurring = one(RecurringDonation)
    assert recurring.status == SubscriptionStatus.ACTIVE
    assert (recurring.amount, recurring.currency, recurring.interval) == (1000, "USD", "month")
    assert recurring.article_url == ARTICLE and recurring.current_period_end is not None
    first_period_end = recurring.current_period_end

    sandbox.advance(days=31)
    sandbox.advance(days=31)

    donations = rows(Donation)
    assert len(donations) == 3
    assert {d.kind for d in donations} == {DonationKind.RECURRING}
    assert len({d.stripe_invoice_id for d in donations}) == 3
    assert all(d.article_url == ARTICLE and d.fee == 59 for d in donations)
    assert one(RecurringDonation).current_period_end > first_period_end
    member = one(Member)
    assert member.status == MemberStatus.ACTIVE and member.tier == "sustainer"  # 12 x 10.00
    receipts = sorted(e.template for e in rows(OutboxEmail) if "receipt" in e.template)
    assert receipts == ["receipt", "renewal_receipt", "renewal_receipt"]


def test_failed_renewal_goes_past_due_then_canceled(sandbox, checkout):
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="dunning@example.org")
    customer_id = one(Member).stripe_customer_id
    sandbox.set_card(customer_id, DECLINING_CARD)

    sandbox.advance(days=31)
    assert one(RecurringDonation).status == SubscriptionStatus.PAST_DUE
    assert one(Member).status == MemberStatus.PAST_DUE
    assert [e.template for e in rows(OutboxEmail)] == ["receipt", "payment_failed"]

    sandbox.advance(days=8)  # every retry fails; Stripe gives up and cancels
    recurring = one(RecurringDonation)
    assert recurring.status == SubscriptionStatus.CANCELED
    assert recurring.canceled_at is not None and recurring.cancellation_reason == "payment_failed"
    assert one(Member).status == MemberStatus.CANCELED
    assert len(rows(Donation)) == 1
    failures = [e for e in rows(OutboxEmail) if e.template == "payment_failed"]
    assert len(failures) == 4  # one per failed attempt, never one per delivery


def test_past_due_recovers_when_a_retry_succeeds(sandbox, checkout):
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="recover@example.org")
    customer_id = one(Member).stripe_customer_id
    sandbox.set_card(customer_id, DECLINING_CARD)
    sandbox.advance(days=31)
    sandbox.set_card(customer_id, "4242424242424242")
    sandbox.advance(days=3)
    assert one(RecurringDonation).status == SubscriptionStatus.ACTIVE
    assert one(Member).status == MemberStatus.ACTIVE
    assert len(rows(Donation)) == 2


def test_partial_then_full_refund(sandbox, checkout):
    session, _ = checkout("one_off", 5000, "USD")
    sandbox.pay(session.id, email="refund@example.org")
    charge_id = one(Donation).stripe_charge_id
    refunds = stripe_api.client().v1.refunds

    [(kept, gifts)] = [(g.kept, g.gifts) for g in giving_of(one(Member).id)]
    assert (kept, gifts) == (5000, 1)  # stored for the member list's sort by total

    refunds.create(params={"charge": charge_id, "amount": 2000})
    donation = one(Donation)
    assert (donation.status, donation.amount_refunded) == (DonationStatus.SUCCEEDED, 2000)
    assert one(Member).status == MemberStatus.ACTIVE
    assert [(g.kept, g.gifts) for g in giving_of(one(Member).id)] == [(3000, 1)]

    refunds.create(params={"charge": charge_id})
    donation = one(Donation)
    assert (donation.status, donation.amount_refunded) == (DonationStatus.REFUNDED, 5000)
    member = one(Member)
    assert member.status == MemberStatus.NONE and member.tier is None
    assert [(g.kept, g.gifts) for g in giving_of(member.id)] == [(0, 1)]
    assert member.last_gift_at == donation.paid_at  # refunded, but it was given


def test_lost_dispute_reverses_the_gift_and_a_won_one_restores_it(sandbox, checkout):
    for email in ("lost@example.org", "won@example.org"):
        session, _ = checkout("one_off", 3000, "USD")
        sandbox.pay(session.id, email=email)
    lost, won = rows(Donation)
    lost_dispute = sandbox.dispute(lost.stripe_charge_id)
    won_dispute = sandbox.dispute(won.stripe_charge_id)
    assert {d.status for d in rows(Donation)} == {DonationStatus.DISPUTED}

    sandbox.close_dispute(lost_dispute["id"], won=False)
    sandbox.close_dispute(won_dispute["id"], won=True)
    lost, won = rows(Donation)
    assert lost.status == DonationStatus.DISPUTE_LOST and lost.disputed_at is not None
    assert won.status == DonationStatus.SUCCEEDED
    statuses = {m.email: m.status for m in rows(Member)}
    assert statuses == {"lost@example.org": MemberStatus.NONE, "won@example.org": "active"}


def test_refunded_renewal_keeps_the_recurring_member_active(sandbox, checkout):
    session, _ = checkout("year", 12000, "USD")
    sandbox.pay(session.id, email="annual@example.org")
    stripe_api.client().v1.refunds.create(params={"charge": one(Donation).stripe_charge_id})
    assert one(Donation).status == DonationStatus.REFUNDED
    member = one(Member)
    assert member.status == MemberStatus.ACTIVE and member.tier == "sustainer"


def test_expired_checkout_marks_the_attempt_and_creates_no_member(sandbox, checkout):
    session, _ = checkout("one_off", 1500, "EUR")
    sandbox.advance(days=2)
    assert one(CheckoutAttempt).state == "expired"
    assert rows(Member) == [] and rows(Donation) == []
    del session


def test_customer_email_change_follows_stripe(sandbox, checkout):
    session, _ = checkout("month", 500, "GBP")
    sandbox.pay(session.id, email="old@example.org")
    customer_id = one(Member).stripe_customer_id
    stripe_api.client().v1.customers.update(customer_id, params={"email": "New@Example.org"})
    assert one(Member).email == "new@example.org"


def test_cancel_at_period_end_then_cancellation(sandbox, checkout):
    session, _ = checkout("month", 1000, "USD")
    sandbox.pay(session.id, email="leaving@example.org")
    sub_id = one(RecurringDonation).stripe_subscription_id
    stripe_api.client().v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    recurring = one(RecurringDonation)
    assert recurring.cancel_at_period_end and recurring.status == SubscriptionStatus.ACTIVE
    sandbox.advance(days=31)
    assert one(RecurringDonation).status == SubscriptionStatus.CANCELED
    assert one(Member).status == MemberStatus.CANCELED


def test_webhook_logs_carry_no_email_addresses(app, sandbox, checkout, caplog):
    from membership.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger="membership")
    session, _ = checkout("month", 1000, "USD")
    with stripe_unreachable(app):  # failures log their error too
        sandbox.pay(session.id, email="private.person@example.org")
    for event in sandbox.events():
        sandbox.webhooks.redeliver(event["id"])
    assert one(Member).status == MemberStatus.ACTIVE
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any("event handler failed" in line for line in lines)
    assert not [line for line in lines if "private.person" in line or "example.org" in line]


def test_a_bank_debit_gift_is_recorded_when_the_bank_pays(sandbox, checkout):
    """SEPA Direct Debit: Checkout completes before the money moves. The reader becomes a
    member with no gift; the gift, its fee and the receipt come with async_payment_succeeded."""
    session, _attempt = checkout("one_off", 2500, "EUR", newsletter_consent=True)
    sandbox.pay(session.id, iban=GOOD_IBAN, email="reader@example.org")
    member = one(Member)
    assert member.status == MemberStatus.NONE and member.newsletter_consent
    assert one(CheckoutAttempt).state == "completed"
    assert rows(Donation) == [] and rows(OutboxEmail) == []

    sandbox.advance(days=1)  # the bank pays
    donation = one(Donation)
    assert (donation.kind, donation.status) == (DonationKind.ONE_OFF, DonationStatus.SUCCEEDED)
    assert (donation.amount, donation.currency) == (2500, "EUR")
    assert donation.fee and donation.net == 2500 - donation.fee
    assert donation.checkout_attempt_id == one(CheckoutAttempt).id
    assert one(Member).status == MemberStatus.ACTIVE
    [receipt] = rows(OutboxEmail)
    assert receipt.template == "receipt"
    assert receipt.dedupe_key == f"receipt:{donation.stripe_payment_intent_id}"
    assert [g.kept for g in giving_of(member.id)] == [2500]


def test_a_bank_debit_the_bank_refuses_records_no_gift_and_tells_the_reader(sandbox, checkout):
    from membership.extensions import db
    from membership.mail.render import render

    session, _attempt = checkout("one_off", 2500, "EUR")
    sandbox.pay(session.id, iban=FAILING_IBAN, email="reader@example.org")
    sandbox.advance(days=1)  # the bank refuses
    assert rows(Donation) == []
    assert one(Member).status == MemberStatus.NONE
    [email] = rows(OutboxEmail)
    intent_id = stripe_api.retrieve_checkout(session.id).payment_intent
    assert (email.template, email.dedupe_key) == ("payment_failed", f"payment_failed:{intent_id}")
    text = render(db.session.get(OutboxEmail, email.id), preview=True).text
    assert "did not go through, so no money was taken" in text
    assert "/give" in text  # a way to try again


def test_a_failed_bank_debit_without_an_email_queues_no_email(
    app, client, sandbox, checkout, caplog
):
    """Stripe may send a session without customer details (no customer, no email): there is no
    one to tell, so no outbox row that the sender would retry forever; the log names the key."""
    session, _attempt = checkout("one_off", 2500, "EUR")
    sandbox.pay(session.id, iban=FAILING_IBAN, email="reader@example.org")
    sandbox.advance(days=1)
    [failed] = sandbox.events("checkout.session.async_payment_failed")
    anonymous = copy.deepcopy(failed) | {"id": "evt_anonymous_failure"}
    anonymous["data"]["object"] |= {"id": "cs_test_anonymous", "customer": None}
    anonymous["data"]["object"]["customer_details"] = None
    anonymous["data"]["object"]["payment_intent"] = "pi_anonymous"
    before = rows(OutboxEmail)
    caplog.set_level(logging.INFO, logger="membership")
    assert deliver(client, app, anonymous).status_code == 200
    assert rows(OutboxEmail) == before
    assert all(email.to_address for email in before)
    [line] = [r for r in caplog.records if r.getMessage() == "email not queued: no recipient"]
    assert line.fields == {"key": "payment_failed:pi_anonymous"}
