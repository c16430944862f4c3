"""The data model: members, their gifts, the Stripe event inbox, staff, audit and outbox."""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, DateTime, Enum, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from membership.extensions import Model
from membership.money import Money

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, storing the values, not the names."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class MemberStatus(enum.StrEnum):
    NONE = "none"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    LAPSED = "lapsed"
    CANCELED = "canceled"


class DonationKind(enum.StrEnum):
    ONE_OFF = "one_off"
    RECURRING = "recurring"


class DonationStatus(enum.StrEnum):
    PENDING = "pending"  # async payment methods (bank debits) settle later
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"  # in full; partial refunds keep SUCCEEDED and set amount_refunded
    DISPUTED = "disputed"
    DISPUTE_LOST = "dispute_lost"


class Frequency(enum.StrEnum):
    ONE_OFF = "one_off"
    MONTH = "month"
    YEAR = "year"


class Interval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


class SubscriptionStatus(enum.StrEnum):
    """Mirrors Stripe's subscription.status."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


class CheckoutState(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    EXPIRED = "expired"


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the retry schedule


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# Where a gift came from, as stored on attempts, gifts and recurring gifts (plus campaign_id).
ATTRIBUTION_COLUMNS = (
    "article_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
)


class AttributionMixin:
    """Where a gift came from: the campaign, the article and the UTM tags carried to the form."""

    article_url: Mapped[str | None] = mapped_column(String(2048))
    referrer: Mapped[str | None] = mapped_column(String(2048))
    utm_source: Mapped[str | None] = mapped_column(String(100))
    utm_medium: Mapped[str | None] = mapped_column(String(100))
    utm_campaign: Mapped[str | None] = mapped_column(String(100))
    utm_content: Mapped[str | None] = mapped_column(String(100))
    utm_term: Mapped[str | None] = mapped_column(String(100))

    @declared_attr
    def campaign_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"), index=True)


class MoneyMixin:
    amount: Mapped[int] = mapped_column()  # minor units: cents, or yen for zero-decimal currencies
    currency: Mapped[str] = mapped_column(String(3))

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


def money_checks() -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency = upper(currency) AND length(currency) = 3", name="currency_iso"),
    )


class Member(TimestampMixin, Model):
    """One person who gave. Status and tier are derived from gifts, stored for fast filtering."""

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    # Normalised (see members.services.normalise_email); NULL once erased.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    newsletter_consent: Mapped[bool] = mapped_column(default=False)
    newsletter_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[MemberStatus] = mapped_column(
        enum_column(MemberStatus, "member_status"), default=MemberStatus.NONE, index=True
    )
    tier: Mapped[str | None] = mapped_column(String(32), index=True)
    # A one-off gift keeps a member active until this moment.
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of every sign-in link and donor session (account/tokens.py): rotating it burns
    # outstanding links and ends the donor's session, server-side. NULL until a link is asked for.
    login_nonce: Mapped[str | None] = mapped_column(String(64))

    donations: Mapped[list[Donation]] = relationship(back_populates="member")
    recurring_donations: Mapped[list[RecurringDonation]] = relationship(back_populates="member")

    __table_args__ = (
        Index("ix_member_created_at", "created_at"),
        # The unique index's collation cannot serve LIKE 'prefix%' on PostgreSQL; this can.
        Index("ix_member_email_prefix", "email", postgresql_ops={"email": "text_pattern_ops"}),
    )

    def __repr__(self) -> str:  # no PII in reprs: they end up in logs and tracebacks
        return f"<Member {self.id} {self.status}>"


class RecurringDonation(AttributionMixin, MoneyMixin, TimestampMixin, Model):
    """A Stripe subscription: the monthly or annual gift as Stripe last told us it stands."""

    __tablename__ = "recurring_donation"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"), index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    interval: Mapped[Interval] = mapped_column(enum_column(Interval, "interval"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_column(SubscriptionStatus, "subscription_status"), index=True
    )
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    # `created` of the newest Stripe event applied; older events must not move state back.
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship(back_populates="recurring_donations")
    donations: Mapped[list[Donation]] = relationship(back_populates="recurring_donation")
    campaign: Mapped[Campaign | None] = relationship()

    __table_args__ = money_checks()

    def __repr__(self) -> str:
        return f"<RecurringDonation {self.stripe_subscription_id} {self.status}>"


class Donation(AttributionMixin, MoneyMixin, TimestampMixin, Model):
    """One payment that succeeded at least once; refunds and disputes are recorded on it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    recurring_donation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_donation.id", ondelete="SET NULL"), index=True
    )
    checkout_attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkout_attempt.id", ondelete="SET NULL")
    )
    kind: Mapped[DonationKind] = mapped_column(enum_column(DonationKind, "donation_kind"))
    status: Mapped[DonationStatus] = mapped_column(
        enum_column(DonationStatus, "donation_status"), default=DonationStatus.SUCCEEDED
    )
    amount_refunded: Mapped[int] = mapped_column(default=0)
    # From the charge's balance transaction, in the settlement currency, when Stripe reports it.
    fee: Mapped[int | None] = mapped_column()
    net: Mapped[int | None] = mapped_column()
    settlement_currency: Mapped[str | None] = mapped_column(String(3))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship(back_populates="donations")
    recurring_donation: Mapped[RecurringDonation | None] = relationship(back_populates="donations")
    campaign: Mapped[Campaign | None] = relationship()

    __table_args__ = (
        *money_checks(),
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount", name="refund_within_amount"
        ),
        # Covering on PostgreSQL: the overview's sums read the index alone.
        Index(
            "ix_donation_paid_at",
            "paid_at",
            postgresql_include=["currency", "amount", "amount_refunded", "status", "kind"],
        ),
        # A member's gifts in order: last-gift sorts, totals per page, the timeline.
        Index("ix_donation_member_paid_at", "member_id", "paid_at"),
        Index("ix_donation_currency_paid_at", "currency", "paid_at"),
    )

    def __repr__(self) -> str:
        return f"<Donation {self.id} {self.amount} {self.currency} {self.status}>"


class CheckoutAttempt(AttributionMixin, MoneyMixin, TimestampMixin, Model):
    """One submission of the donation form, from the form to Stripe Checkout and back."""

    __tablename__ = "checkout_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Sent to Stripe as client_reference_id and metadata, so webhooks find the attempt.
    reference: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    frequency: Mapped[Frequency] = mapped_column(enum_column(Frequency, "frequency"))
    newsletter_consent: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    state: Mapped[CheckoutState] = mapped_column(
        enum_column(CheckoutState, "checkout_state"), default=CheckoutState.OPEN, index=True
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        *money_checks(),
        Index("ix_checkout_attempt_created_at", "created_at"),
    )


class StripeEvent(Model):
    """The webhook inbox: every event Stripe sent, stored before it is handled."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_...
    type: Mapped[str] = mapped_column(String(100), index=True)
    api_version: Mapped[str | None] = mapped_column(String(50))
    livemode: Mapped[bool] = mapped_column(default=False)
    stripe_created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class Campaign(TimestampMixin, Model):
    """The prompt's copy, suggested amounts and goal for one appeal; blanks fall back to config."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    headline: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    button_text: Mapped[str | None] = mapped_column(String(60))
    # {"month": {"USD": {"amounts": [500, 1000, 2500], "default": 1000}}, "one_off": {...}}
    suggested_amounts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    default_frequency: Mapped[Frequency] = mapped_column(
        enum_column(Frequency, "frequency"), default=Frequency.MONTH
    )
    goal_amount: Mapped[int | None] = mapped_column()
    goal_currency: Mapped[str | None] = mapped_column(String(3))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="window_ordered"
        ),
        CheckConstraint("goal_amount IS NULL OR goal_amount > 0", name="goal_positive"),
    )


class StaffUser(UserMixin, TimestampMixin, Model):
    """A newsroom staff member who signs in to the dashboard."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(
        enum_column(StaffRole, "staff_role"), default=StaffRole.VIEWER
    )
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the login session id: rotating it ends every session of this user, server-side.
    session_token: Mapped[str] = mapped_column(
        String(64), default=lambda: secrets.token_urlsafe(32)
    )
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN


class AuditEntry(Model):
    """Who did what to which record, and when. No IP addresses: see DESIGN.md, privacy."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(100))  # "staff", "cli", "system", "donor"
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    staff_user: Mapped[StaffUser | None] = relationship()


class OutboxEmail(TimestampMixin, Model):
    """An email to send, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str | None] = mapped_column(String(320))  # cleared on erasure
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # One email per cause (e.g. "receipt:in_123"), so a replayed event does not mail twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_outbox_email_status_next", "status", "next_attempt_at"),)
