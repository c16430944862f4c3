"""The inbox's paths: an unhandled type in one autocommit INSERT, or in the open transaction;
a fresh event claimed by its insert; a failure never marks an applied event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from membership.extensions import db
from membership.models import StripeEvent
from membership.webhooks import inbox
from membership.webhooks.events import Event
from tests.webhooks.conftest import one

pytestmark = pytest.mark.usefixtures("app_context")

UNHANDLED = {
    "id": "evt_inbox_unhandled",
    "object": "event",
    "type": "payment_intent.created",
    "created": 1_800_000_000,
    "data": {"object": {"id": "pi_x", "object": "payment_intent"}},
}
HANDLED = UNHANDLED | {
    "id": "evt_inbox_handled",
    "type": "customer.updated",
    "data": {"object": {"id": "cus_nobody", "object": "customer", "email": "x@example.org"}},
}


def test_an_unhandled_type_is_stored_as_applied_once(app):
    assert inbox.receive(UNHANDLED) is inbox.Outcome.IGNORED
    assert inbox.receive(UNHANDLED) is inbox.Outcome.DUPLICATE
    stored = one(StripeEvent)
    assert stored.processed_at is not None and stored.attempts == 1 and stored.last_error is None


def test_an_unhandled_type_joins_a_transaction_already_open(app):
    db.session.execute(sa.select(1))  # e.g. reconcile, which asked the inbox first
    assert db.session().in_transaction()
    assert inbox.receive(UNHANDLED) is inbox.Outcome.IGNORED
    assert not db.session().in_transaction()  # committed with it
    assert one(StripeEvent).processed_at is not None


def test_an_unhandled_type_stored_but_never_applied_is_applied(app):
    inbox.store(UNHANDLED)  # as `flask stripe replay` stores one fetched from Stripe
    db.session.commit()
    assert inbox.receive(UNHANDLED) is inbox.Outcome.IGNORED
    assert one(StripeEvent).processed_at is not None


def test_a_handled_event_is_claimed_by_its_insert(app):
    assert inbox.receive(HANDLED) is inbox.Outcome.PROCESSED
    assert inbox.receive(HANDLED) is inbox.Outcome.DUPLICATE
    stored = one(StripeEvent)
    assert stored.attempts == 1 and stored.processed_at is not None


def test_a_late_failure_report_leaves_an_applied_event_alone(app):
    # A delivery that failed records its error after a racing one applied the event.
    assert inbox.receive(HANDLED) is inbox.Outcome.PROCESSED
    inbox.record_failure(HANDLED, Event.from_payload(HANDLED), RuntimeError("too late"))
    stored = one(StripeEvent)
    assert (stored.attempts, stored.last_error) == (1, None)
    assert stored.processed_at is not None and stored.processed_at <= datetime.now(UTC)
