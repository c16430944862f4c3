"""The event inbox: store each Stripe event once, then apply it at most once, under a row lock."""

from __future__ import annotations

import enum
import json
import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from membership import stripe_api
from membership.account import privacy
from membership.extensions import conflict_insert, db
from membership.models import StripeEvent
from membership.webhooks import erased, gifts
from membership.webhooks.events import Event
from membership.webhooks.handlers import HANDLERS

log = logging.getLogger("membership.webhooks")
MAX_ERROR_LENGTH = 2000


class Outcome(enum.StrEnum):
    PROCESSED = "processed"
    IGNORED = "ignored"  # a type we do not handle: stored and acknowledged
    NOT_A_GIFT = "not a gift"  # merchandise, tickets: stored and acknowledged, counted nowhere
    DUPLICATE = "duplicate"  # already applied: Stripe's retry or a racing delivery
    FAILED = "failed"  # the handler raised; its writes were rolled back
    # Stripe has no such object (404 resource_missing on the handler's read): acknowledged,
    # since retrying for three days cannot bring it back, and kept unapplied for staff.
    NOT_FOUND = "not found at Stripe"


def receive(payload: dict[str, Any]) -> Outcome:
    """Store a verified event and apply it, in one transaction (one commit, one fsync).

    Every event takes the same path: the INSERT claims it, and its type's handler (none for
    the many types we only keep) runs in the same transaction. If the handler fails, its
    writes and the insert roll back together and record_failure stores the event with its
    error; if the process dies first, Stripe never got a 200 and delivers it again. Either
    way no received event is lost.
    """
    delivery = erased.guard(payload)  # news of an erased donor is stored without them
    if not claim(delivery.stored):
        # Stored before: a duplicate, or a retry after a failure.
        return process(payload["id"], delivery=delivery)
    return run(delivery)


def claim(payload: dict[str, Any]) -> bool:
    """Insert the event as applied by this transaction; False if its id is already stored.

    On PostgreSQL a second delivery's insert waits here for the first one's transaction, then
    finds the id taken and goes through process(), which sees it applied. The new row needs no
    SELECT ... FOR UPDATE: until this transaction ends, no one else can insert or see it.
    """
    row = event_row(payload, processed_at=datetime.now(UTC), attempts=1)
    return db.session.execute(insert_new().values(row)).first() is not None


def store(payload: dict[str, Any]) -> None:
    """Insert the raw event (erased.guard's copy of it), uncommitted; a duplicate id, also one
    racing in now, is a no-op.

    On PostgreSQL a second delivery's insert waits for the first one's transaction, then
    finds the row (already applied) under the lock that process() takes.
    """
    db.session.execute(insert_new().values(event_row(payload)))


def event_row(payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
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


def insert_new() -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, on the table: no ORM state needed."""
    table = StripeEvent.__table__
    insert = conflict_insert(table, db.engine.dialect.name)
    return insert.on_conflict_do_nothing().returning(table.c.id)


def process(event_id: str, force: bool = False, delivery: erased.Delivery | None = None) -> Outcome:
    """Run a stored event's handler in one transaction with its writes; `force`: a done one too.

    The handler gets the event as Stripe sent it when it has just come in (`delivery`); a
    stored copy scrubbed of an erased donor is fetched from Stripe again (it names no one).
    """
    if delivery is None:
        delivery = stored_delivery(event_id)
    # FOR UPDATE: a second delivery of an id waits here until the first commits, then sees
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
    row.processed_at = datetime.now(UTC)  # rolled back with the handler's writes if it fails
    row.attempts += 1
    row.last_error = None
    row.missing_at_stripe = False
    return run(delivery)


def stored_delivery(event_id: str) -> erased.Delivery:
    """The stored event to run again; one kept scrubbed is asked of Stripe (checked again)."""
    row = db.session.get(StripeEvent, event_id)
    if row is None:
        db.session.rollback()
        raise LookupError(f"event {event_id} is not in the inbox")
    if privacy.ERASED in json.dumps(row.payload):
        try:
            return erased.guard(stripe_api.retrieve_event(event_id))
        except (stripe_api.PaymentProviderError, stripe.StripeError):
            pass  # past Stripe's 30 days, or never Stripe's: the handler gets the kept copy
    return erased.Delivery(row.payload, row.payload)


def run(delivery: erased.Delivery) -> Outcome:
    """Apply the event with its type's handler and commit; on failure roll back and record the
    error. A type without a handler is kept and acknowledged (Stripe sends many we only keep:
    payment_intent.created, invoice.finalized...)."""
    event = Event.from_payload(delivery.payload)
    handler = HANDLERS.get(event.type)
    try:
        if handler is not None:
            handler(event)
        if delivery.late is not None:
            erased.forget_again(delivery.late)
        db.session.commit()
    except gifts.NotAGift as exc:
        db.session.rollback()
        record_applied(delivery.stored)
        log.info("not a gift", extra={"fields": fields(event) | {"object": str(exc)}})
        return Outcome.NOT_A_GIFT
    except Exception as exc:
        db.session.rollback()
        missing = isinstance(exc, stripe.StripeError) and stripe_api.is_missing(exc)
        record_failure(delivery.stored, event, exc, missing)
        return Outcome.NOT_FOUND if missing else Outcome.FAILED
    if handler is None:
        log.info("unhandled event type", extra={"fields": fields(event)})
        return Outcome.IGNORED
    log.info("event processed", extra={"fields": fields(event)})
    return Outcome.PROCESSED


def record_applied(payload: dict[str, Any]) -> None:
    """Store the event as done with nothing to apply (the rollback took the claim away)."""
    table = StripeEvent.__table__
    insert = conflict_insert(table, db.engine.dialect.name)
    done = datetime.now(UTC)
    db.session.execute(
        insert.values(event_row(payload, attempts=1, processed_at=done)).on_conflict_do_update(
            index_elements=[table.c.id],
            set_={"processed_at": done, "last_error": None, "missing_at_stripe": False},
        )
    )
    db.session.commit()


def record_failure(
    payload: dict[str, Any], event: Event, exc: Exception, missing: bool = False
) -> None:
    """Store the event (the rollback took a fresh insert away) with its error and attempt."""
    message = describe(exc)[:MAX_ERROR_LENGTH]
    what = "event's object not found at Stripe" if missing else "event handler failed"
    log.warning(what, extra={"fields": fields(event) | {"error": message}})
    table = StripeEvent.__table__
    insert = conflict_insert(table, db.engine.dialect.name)
    row = event_row(payload, attempts=1, last_error=message, missing_at_stripe=missing)
    db.session.execute(
        insert.values(row).on_conflict_do_update(
            index_elements=[table.c.id],
            set_={
                "attempts": table.c.attempts + 1,
                "last_error": insert.excluded.last_error,
                "missing_at_stripe": insert.excluded.missing_at_stripe,
            },
            # A racing delivery may have applied it meanwhile: then there is no error to keep.
            where=table.c.processed_at.is_(None),
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
    """Events stored but never applied (failed or interrupted), oldest first; not those whose
    object Stripe does not have, which a retry cannot apply (staff replay them one by one)."""
    return list(
        db.session.scalars(
            select(StripeEvent.id)
            .where(StripeEvent.processed_at.is_(None), ~StripeEvent.missing_at_stripe)
            .order_by(StripeEvent.stripe_created_at, StripeEvent.received_at)
        )
    )


def is_processed(event_id: str) -> bool:
    row = db.session.get(StripeEvent, event_id)
    return row is not None and row.processed_at is not None


def fields(event: Event) -> dict[str, Any]:
    return {"event_id": event.id, "event_type": event.type}
