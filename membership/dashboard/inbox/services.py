"""The webhook inbox: stored Stripe events by type and state, keyset-paged; replaying one."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from membership.dashboard.audit.services import record
from membership.extensions import db
from membership.models import StripeEvent

PAGE_SIZE = 50
# Each state as the filter and the table name it.
STATE_LABELS = {
    "processed": "processed",
    "failed": "failed",
    "missing": "not found at Stripe",
    "pending": "pending",
}
STATES = tuple(STATE_LABELS)


@dataclass(frozen=True)
class InboxPage:
    events: list[StripeEvent]
    next_cursor: str | None  # the last id shown, when there may be more


def state_of(event: StripeEvent) -> str:
    """processed: applied; failed: the last attempt raised; missing: its object is not at
    Stripe (acknowledged, not applied); pending: never attempted."""
    if event.processed_at is not None:
        return "processed"
    if event.missing_at_stripe:
        return "missing"
    return "failed" if event.last_error else "pending"


def state_condition(state: str) -> sa.ColumnElement[bool]:
    if state == "processed":
        return StripeEvent.processed_at.is_not(None)
    unapplied = StripeEvent.processed_at.is_(None)
    if state == "missing":
        return sa.and_(unapplied, StripeEvent.missing_at_stripe)
    has_error = StripeEvent.last_error.is_not(None)
    failed = has_error if state == "failed" else ~has_error
    return sa.and_(unapplied, ~StripeEvent.missing_at_stripe, failed)


def find_events(event_type: str | None, state: str | None, after: str | None) -> InboxPage:
    """Newest first, keyset-paged on (received_at, id) so deep pages cost what the first does."""
    stmt = sa.select(StripeEvent).order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
    if event_type:
        stmt = stmt.where(StripeEvent.type == event_type)
    if state in STATES:
        stmt = stmt.where(state_condition(state))
    cursor = db.session.get(StripeEvent, after) if after else None
    if cursor is not None:
        position = sa.tuple_(StripeEvent.received_at, StripeEvent.id)
        stmt = stmt.where(position < sa.tuple_(cursor.received_at, cursor.id))
    rows = list(db.session.scalars(stmt.limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return InboxPage(rows, rows[-1].id if more else None)


def event_types() -> list[str]:
    """The types stored, in order: one probe of the type index per type, not a read of all
    events (a skip scan, written out as a recursive query, which neither database plans)."""
    event = StripeEvent.__table__.alias("event")
    first = sa.select(sa.func.min(event.c.type).label("type")).cte("types", recursive=True)
    following = (
        sa.select(sa.func.min(event.c.type)).where(event.c.type > first.c.type).scalar_subquery()
    )
    types = first.union_all(sa.select(following).where(first.c.type.is_not(None)))
    return list(db.session.scalars(sa.select(types.c.type).where(types.c.type.is_not(None))))


def replay(event_id: str) -> str | None:
    """Run a stored event through its handler again, exactly as `flask stripe replay` does, and
    audit-log it (committed); the outcome, or None when no such event is stored."""
    from membership.webhooks import operations

    # Only stored events: a form must not make us fetch arbitrary ids from Stripe.
    if db.session.get(StripeEvent, event_id) is None:
        return None
    outcome = operations.replay(event_id)
    # After the replay: a failing handler rolls back the session, which would drop this entry.
    record("webhook.replay", "stripe_event", event_id, {"outcome": outcome.value})
    db.session.commit()
    return outcome.value
