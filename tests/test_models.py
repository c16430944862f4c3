"""The data model round-trips and its constraints hold, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from membership.extensions import db
from membership.models import (
    AuditEntry,
    CheckoutAttempt,
    CheckoutState,
    Donation,
    DonationStatus,
    Member,
    MemberStatus,
    OutboxEmail,
    OutboxStatus,
    StaffRole,
    StripeEvent,
)
from membership.money import Money
from tests.factories import (
    FIXED_NOW,
    make_campaign,
    make_checkout_attempt,
    make_donation,
    make_event,
    make_member,
    make_recurring,
    make_staff,
)

pytestmark = pytest.mark.usefixtures("app_context")


def reload(model, key):
    db.session.expire_all()
    return db.session.get(model, key)


def test_member_with_gifts_round_trips(app):
    campaign = make_campaign(goal_amount=1_000_000, goal_currency="USD")
    member = make_member(display_name="Ана Читатель", locale="ru", status=MemberStatus.ACTIVE)
    recurring = make_recurring(member, amount=1500, currency="EUR", campaign_id=campaign.id)
    make_donation(
        member,
        recurring_donation=recurring,
        amount=1500,
        currency="EUR",
        fee=74,
        net=1426,
        settlement_currency="EUR",
        stripe_invoice_id="in_test1",
        article_url="https://news.example/2026/11/story",
        utm_source="newsletter",
        campaign_id=campaign.id,
    )

    loaded = reload(Member, member.id)
    assert loaded.display_name == "Ана Читатель"
    assert loaded.status is MemberStatus.ACTIVE
    assert len(loaded.public_id) == 32
    [gift] = loaded.donations
    assert gift.money == Money(1500, "EUR")
    assert (gift.fee, gift.net, gift.settlement_currency) == (74, 1426, "EUR")
    assert gift.recurring_donation.stripe_subscription_id == recurring.stripe_subscription_id
    assert gift.campaign.slug == campaign.slug
    assert gift.article_url == "https://news.example/2026/11/story"
    assert loaded.recurring_donations[0].donations == [gift]


def test_datetimes_come_back_aware_and_in_utc(app):
    moscow = datetime(2026, 11, 1, 15, 0, tzinfo=UTC) + timedelta(hours=3)
    gift = make_donation(
        paid_at=moscow.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Moscow"))
    )
    loaded = reload(Donation, gift.id)
    assert loaded.paid_at.tzinfo is not None
    assert loaded.paid_at == datetime(2026, 11, 1, 18, 0, tzinfo=UTC)
    assert loaded.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(app):
    with pytest.raises(StatementError, match="naive datetime"):
        make_donation(paid_at=datetime(2026, 1, 1))
    db.session.rollback()


def test_event_payload_round_trips_as_json(app):
    payload = {"id": "evt_1", "data": {"object": {"amount": 500, "metadata": {"a": "ü"}}}}
    make_event(id="evt_1", payload=payload, api_version="2026-10-28.endive")
    loaded = reload(StripeEvent, "evt_1")
    assert loaded.payload == payload
    assert loaded.processed_at is None and loaded.attempts == 0


def test_staff_audit_outbox_and_checkout_round_trip(app):
    staff = make_staff(role=StaffRole.ADMIN)
    db.session.add(AuditEntry(staff_user_id=staff.id, actor="staff", action="export.members"))
    db.session.add(OutboxEmail(to_address="reader@example.org", template="receipt"))
    attempt = make_checkout_attempt(utm_campaign="year-end")
    db.session.commit()

    assert staff.is_admin and staff.get_id() == f"{staff.id}:{staff.session_token}"
    assert db.session.scalars(sa.select(AuditEntry)).one().staff_user.email == staff.email
    assert db.session.scalars(sa.select(OutboxEmail)).one().status is OutboxStatus.PENDING
    loaded = reload(CheckoutAttempt, attempt.id)
    assert loaded.state is CheckoutState.OPEN and len(loaded.reference) == 32


UNIQUE_CASES = [
    ("member email", lambda: make_member(email="dup@example.org")),
    ("member customer", lambda: make_member(stripe_customer_id="cus_dup")),
    (
        "payment intent",
        lambda: make_donation(stripe_payment_intent_id="pi_dup", stripe_charge_id=None),
    ),
    ("charge", lambda: make_donation(stripe_charge_id="ch_dup", stripe_payment_intent_id=None)),
    ("invoice", lambda: make_donation(stripe_invoice_id="in_dup")),
    ("subscription", lambda: make_recurring(stripe_subscription_id="sub_dup")),
    ("event id", lambda: make_event(id="evt_dup")),
    ("checkout session", lambda: make_checkout_attempt(stripe_checkout_session_id="cs_dup")),
    ("idempotency key", lambda: make_checkout_attempt(idempotency_key="key-dup")),
    ("campaign slug", lambda: make_campaign(slug="dup")),
    ("staff email", lambda: make_staff(email="dup@newsroom.example")),
    (
        "outbox dedupe",
        lambda: (db.session.add(OutboxEmail(template="t", dedupe_key="k")), db.session.commit()),
    ),
]


@pytest.mark.parametrize(("label", "make"), UNIQUE_CASES, ids=[c[0] for c in UNIQUE_CASES])
def test_unique_constraints_reject_duplicates(app, label, make):
    make()
    with pytest.raises(IntegrityError):
        make()
    db.session.rollback()


def test_several_members_may_have_no_email_or_customer(app):
    """Erased members keep their row with NULL email; NULLs never collide."""
    make_member(email=None, stripe_customer_id=None)
    make_member(email=None, stripe_customer_id=None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 2


CHECK_CASES = [
    ("zero amount", lambda: make_donation(amount=0)),
    ("negative amount", lambda: make_recurring(amount=-100)),
    ("lower-case currency", lambda: make_donation(currency="usd")),
    ("refund above amount", lambda: make_donation(amount=1000, amount_refunded=1001)),
    (
        "campaign window backwards",
        lambda: make_campaign(starts_at=FIXED_NOW, ends_at=FIXED_NOW - timedelta(days=1)),
    ),
    ("checkout amount zero", lambda: make_checkout_attempt(amount=0)),
]


@pytest.mark.parametrize(("label", "make"), CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_check_constraints_reject_bad_rows(app, label, make):
    with pytest.raises(IntegrityError):
        make()
    db.session.rollback()


def test_enum_columns_reject_unknown_values_in_the_database(app):
    member = make_member()
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE member SET status = 'gold' WHERE id = :id"), {"id": member.id})


def test_foreign_keys_are_enforced(app):
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO donation (member_id, kind, status, amount, amount_refunded,"
                " currency, paid_at, created_at, updated_at)"
                " VALUES (999999, 'one_off', 'succeeded', 100, 0, 'USD', :t, :t, :t)"
            ),
            {"t": FIXED_NOW},
        )


def test_member_with_donations_cannot_be_deleted(app):
    """Accounting keeps gifts: erasure blanks PII instead of deleting the member."""
    gift = make_donation()
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM member WHERE id = :id"), {"id": gift.member_id})


def test_refunded_status_and_partial_refund_are_stored(app):
    gift = make_donation(amount=5000, amount_refunded=2000)
    gift.status = DonationStatus.REFUNDED
    db.session.commit()
    loaded = reload(Donation, gift.id)
    assert (loaded.status, loaded.amount_refunded) == (DonationStatus.REFUNDED, 2000)


def test_reprs_carry_no_personal_data(app):
    member = make_member(email="secret.reader@example.org", display_name="Secret Reader")
    assert "secret" not in repr(member).lower()
