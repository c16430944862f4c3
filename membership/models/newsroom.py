"""The newsroom's side: the Stripe event inbox, campaigns, staff, the audit log and the outbox."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from membership.extensions import Model
from membership.models.columns import JSONType, TimestampMixin, UTCDateTime, enum_column, utcnow
from membership.models.enums import Frequency, OutboxStatus, StaffRole


class StripeEvent(Model):
    """The webhook inbox: every event Stripe sent, stored before it is handled."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_...
    type: Mapped[str] = mapped_column(String(100))
    api_version: Mapped[str | None] = mapped_column(String(50))
    livemode: Mapped[bool] = mapped_column(default=False)
    stripe_created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The last attempt found the event's object missing at Stripe (404 resource_missing):
    # acknowledged, not applied, not retried by Stripe; staff may replay it.
    missing_at_stripe: Mapped[bool] = mapped_column(default=False, server_default=false())

    # The staff inbox pages newest first, of all events, of one type, or of those never
    # applied; each reads its index in order. Every event is inserted once with these.
    __table_args__ = (
        Index("ix_stripe_event_received_at", "received_at", "id"),
        Index("ix_stripe_event_type_received_at", "type", "received_at", "id"),
        # Only the few events not applied (failed, or stored by replay): nearly all inserts
        # skip it, and `flask stripe replay --failed` and the inbox's failed tab read it.
        Index(
            "ix_stripe_event_unprocessed",
            "received_at",
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )


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
