"""Readers and their money: members, recurring gifts, gifts and checkout attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from membership.extensions import Model
from membership.models.columns import (
    AttributionMixin,
    MoneyMixin,
    TimestampMixin,
    UTCDateTime,
    enum_column,
    money_checks,
    new_public_id,
)
from membership.models.enums import (
    CheckoutState,
    DonationKind,
    DonationStatus,
    Frequency,
    Interval,
    MemberStatus,
    SubscriptionStatus,
)
from membership.models.newsroom import Campaign


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
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The latest counted gift's paid_at, kept by members/giving.py, as MemberGiving is.
    last_gift_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of every sign-in link and donor session (account/tokens.py): rotating it burns
    # outstanding links and ends the donor's session, server-side. NULL until a link is asked for.
    login_nonce: Mapped[str | None] = mapped_column(String(64))

    donations: Mapped[list[Donation]] = relationship(back_populates="member")
    recurring_donations: Mapped[list[RecurringDonation]] = relationship(back_populates="member")

    __table_args__ = (
        Index("ix_member_created_at", "created_at"),
        # Covering on PostgreSQL, as are the other INCLUDE indexes: the overview's counts of
        # lapsed members, live recurring gifts, churn and the funnel read the index alone.
        Index("ix_member_active_until", "active_until", postgresql_include=["status"]),
        # The unique index's collation cannot serve LIKE 'prefix%' on PostgreSQL; this can.
        Index("ix_member_email_prefix", "email", postgresql_ops={"email": "text_pattern_ops"}),
        # The member list sorted by last gift, newest first, a page at a time (keyset on id).
        Index("ix_member_last_gift_at", "last_gift_at", "id"),
        # Search by any part of the name has a trigram index on PostgreSQL: migration 0007,
        # ix_member_display_name_trgm (see MIGRATION_ONLY_INDEXES).
    )

    def __repr__(self) -> str:  # no PII in reprs: they end up in logs and tracebacks
        return f"<Member {self.id} {self.status}>"


class MemberCustomer(TimestampMixin, Model):
    """A Stripe customer seen for a member: every checkout without a customer makes one."""

    __tablename__ = "member_customer"

    stripe_customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)


class ErasedIdentity(Model):
    """What is left of an erased donor's email or Stripe customer id: a keyed fingerprint
    (HMAC-SHA256 under ERASURE_KEY, never the value), so that a late event, an import or a
    checkout naming them is recognised and scrubbed before anything is stored."""

    __tablename__ = "erased_identity"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "email" or "customer"
    # The erased member's pseudonymous row, which a late gift is counted on.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A customer's: when Stripe confirmed its email and name blanked (NULL: still to do).
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecurringDonation(AttributionMixin, MoneyMixin, TimestampMixin, Model):
    """A Stripe subscription: the monthly or annual gift as Stripe last told us it stands."""

    __tablename__ = "recurring_donation"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"), index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    interval: Mapped[Interval] = mapped_column(enum_column(Interval, "interval"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_column(SubscriptionStatus, "subscription_status")
    )
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    # `created` of the newest Stripe event applied; older events must not move state back.
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The part of `amount` that covers the card fees, from the subscription's metadata.
    fee_covered: Mapped[int] = mapped_column(default=0, server_default="0")
    # A change the donor asked for that starts with the next period (a subscription schedule's
    # next phase at Stripe): its amount and interval, and when it is first charged.
    scheduled_amount: Mapped[int | None] = mapped_column()
    scheduled_interval: Mapped[Interval | None] = mapped_column(
        enum_column(Interval, "scheduled_interval")
    )
    scheduled_from: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship(back_populates="recurring_donations")
    donations: Mapped[list[Donation]] = relationship(back_populates="recurring_donation")
    campaign: Mapped[Campaign | None] = relationship()

    __table_args__ = (
        *money_checks(),
        Index(
            "ix_recurring_donation_status",
            "status",
            postgresql_include=["currency", "interval", "amount", "member_id"],
        ),
        Index("ix_recurring_donation_started_at", "started_at", postgresql_include=["canceled_at"]),
    )

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
    # The part of `amount` the reader added to cover the card fees (donations/fees.py), as the
    # payment's or subscription's metadata told it; 0 if they did not.
    fee_covered: Mapped[int] = mapped_column(default=0, server_default="0")
    # From the charge's balance transaction, in the settlement currency, when Stripe reports it.
    fee: Mapped[int | None] = mapped_column()
    net: Mapped[int | None] = mapped_column()
    settlement_currency: Mapped[str | None] = mapped_column(String(3))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # active_history: moving a gift must mark its old month's totals stale
    # (dashboard/metrics/rollups.py) even when the instance expired at a commit, so the old value
    # is loaded before it changes.
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime(), active_history=True)
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
        CheckConstraint("fee_covered >= 0 AND fee_covered < amount", name="fee_covered_in_amount"),
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
    # Added to `amount` (the gift chosen) when the reader chose to cover the card fees.
    fee_covered: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        *money_checks(),
        CheckConstraint("fee_covered >= 0", name="fee_covered_not_negative"),
        Index("ix_checkout_attempt_created_at", "created_at", postgresql_include=["state"]),
    )
