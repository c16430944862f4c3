"""The event inbox: store each Stripe event once, then apply it at most once, under a row lock."""

from __future__ import annotations

import enum
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from membership.extensions import db
from membership.models import StripeEvent
from membership.webhooks.events import Event
from membership.webhooks.handlers import HANDLERS

log = logging.getLogger("membership.webhooks")
MAX_ERROR_LENGTH = 2000


class Outcome(enum.StrEnum):
    PROCESSED = "processed"
    IGNORED = "ignored"  # a type we do not handle: stored and acknowledged
    DUPLICATE = "duplicate"  # already applied: Stripe's retry or a racing delivery
    FAILED = "failed"  # the handler raised; its writes were rolled back


def receive(payload: dict[str, Any]) -> Outcome:
    """Store a verified event and apply it, in one transaction (one commit, one fsync).

    If the handler fails, its writes and the insert roll back together and record_failure
    stores the event with its error; if the process dies first, Stripe never got a 200 and
    delivers it again. Either way no received event is lost.
    """
    store(payload)
    return process(payload["id"])


def store(payload: dict[str, Any]) -> None:
    """Insert the raw event, uncommitted; a duplicate id, also one racing in now, is a no-op.

    On PostgreSQL a second delivery's insert waits for the first one's transaction, then
    finds the row (already applied) under the lock that process() takes.
    """
    statement = insert_event(payload).on_conflict_do_nothing()
    db.session.execute(statement)


def insert_event(payload: dict[str, Any], **extra: Any) -> Any:
    values = {
        "id": payload["id"],
        "type": payload["type"],
        "api_version": payload.get("api_version"),
        "livemode": bool(payload.get("livemode")),
        "stripe_created_at": datetime.fromtimestamp(payload["created"], UTC),
        "payload": payload,
        "received_at": datetime.now(UTC),
        "attempts": 0,
        **extra,
    }
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(StripeEvent).values(**values)


def process(event_id: str, force: bool = False) -> Outcome:
    """Run the event's handler in one transaction with its writes; `force` re-runs a done one."""
    # FOR UPDATE: a second delivery of this id waits here until the first commits, then sees
    # processed_at. SQLite ignores it; there, writers are serialised by the database lock.
    row = db.session.scalar(
        select(StripeEvent)
        .where(StripeEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        db.session.rollback()
        raise LookupError(f"event {event_id} is not in the inbox")
    if row.processed_at is not None and not force:
        db.session.commit()
        return Outcome.DUPLICATE
    payload = row.payload
    event = Event.from_payload(payload)
    handler = HANDLERS.get(event.type)
    try:
        if handler is None:
            log.info("unhandled event type", extra={"fields": fields(event)})
        else:
            handler(event)
        row.processed_at = datetime.now(UTC)
        row.attempts += 1
        row.last_error = None
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        record_failure(payload, event, exc)
        return Outcome.FAILED
    log.info("event processed", extra={"fields": fields(event)})
    return Outcome.PROCESSED if handler else Outcome.IGNORED


def record_failure(payload: dict[str, Any], event: Event, exc: Exception) -> None:
    """Store the event (the rollback took a fresh insert away) with its error and attempt."""
    message = describe(exc)[:MAX_ERROR_LENGTH]
    log.warning("event handler failed", extra={"fields": fields(event) | {"error": message}})
    statement = insert_event(payload, attempts=1, last_error=message)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[StripeEvent.id],
            set_={"attempts": StripeEvent.attempts + 1, "last_error": message},
        )
    )
    db.session.commit()


def describe(exc: Exception) -> str:
    """The error without PII: database errors echo row values (emails), so keep only names."""
    if isinstance(exc, SQLAlchemyError):
        original = getattr(exc, "orig", None)
        return f"{type(exc).__name__}: {type(original).__name__ if original else ''}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def unprocessed_ids() -> list[str]:
    """Events stored but never applied (failed or interrupted), oldest first."""
    return list(
        db.session.scalars(
            select(StripeEvent.id)
            .where(StripeEvent.processed_at.is_(None))
            .order_by(StripeEvent.stripe_created_at, StripeEvent.received_at)
        )
    )


def is_processed(event_id: str) -> bool:
    row = db.session.get(StripeEvent, event_id)
    return row is not None and row.processed_at is not None


def fields(event: Event) -> dict[str, Any]:
    return {"event_id": event.id, "event_type": event.type}
