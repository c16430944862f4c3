"""What each event costs: SQL statements, PostgreSQL round trips and Stripe requests, counted.

Counts, never times. The budgets are what the handlers need now; a change that adds a query or
a request to every event (a lost expand, a re-read, a lookup per row) fails here, long before
it shows in `bench/webhooks.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from membership.extensions import db
from membership.webhooks.handlers import HANDLERS

pytestmark = pytest.mark.usefixtures("app_context")

# Per handled event, in the order Stripe sends a checkout's events: (SQL statements, Stripe
# requests). A statement is anything SQLAlchemy sends; BEGIN and COMMIT are
# in the round trips below. Every other type (payment_intent.created, invoice.finalized...)
# is stored with one INSERT and no request to Stripe. An event that writes a gift also
# refreshes its member's stored giving (members/giving.py): lock, upsert, last gift. Every
# event that names a person (an email, a customer) is first checked against the erased
# donors' fingerprints (webhooks/erased.py): one SELECT; a new member is checked the same
# way, and each customer seen for a member is recorded (member_customer).
MONTHLY = {
    "customer.updated": (3, 0),
    "customer.subscription.created": (11, 1),  # subscription + customer in one request
    "invoice.paid": (11, 2),  # invoice + subscription in one request; the payment intent
    "checkout.session.completed": (5, 0),  # the subscription is known: not read again
}
ONE_OFF = {
    "checkout.session.completed": (16, 1),  # member, gift, receipt, status, giving
}
UNHANDLED = (2, 0)  # the fingerprint check, then one INSERT
# On PostgreSQL, round trips beyond the statements: BEGIN and COMMIT of the event's one
# transaction (every type takes the same path; the fingerprint check reads in it).
EXTRA_ROUND_TRIPS = 2


class Meter:
    """Counts what one delivery costs; on PostgreSQL also libpq's exchanges (round trips).
    Stripe requests are counted by the sandbox's transport (its `sent`)."""

    def __init__(self, sandbox: Any, trace_path: Path) -> None:
        self.counts: Counter[str] = Counter()
        self.sandbox = sandbox
        self.trace_path = trace_path

    def measure(self, deliver: Any) -> Counter[str]:
        self.counts = Counter()
        sent_before = self.sandbox.adapter.sent
        db.session.remove()  # each request starts with a fresh session, as in production
        postgres = db.engine.dialect.name == "postgresql"
        with self.trace_path.open("w") as trace:
            if postgres:
                trace_next_connection(trace.fileno())
            sa.event.listen(db.engine, "before_cursor_execute", self.on_execute)
            try:
                deliver()
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", self.on_execute)
                db.session.remove()
                db.engine.dispose()  # the traced connection goes; later tests get fresh ones
        if postgres:
            self.counts["round_trips"] = self.trace_path.read_text().count("\tReadyForQuery")
        self.counts["stripe"] = self.sandbox.adapter.sent - sent_before
        return self.counts

    def on_execute(self, *_args: Any) -> None:
        self.counts["statements"] += 1


def trace_next_connection(fileno: int) -> None:
    """Have libpq log every message on a pooled connection, warm as in production.

    The server ends each exchange with a ReadyForQuery: one per round trip.
    """
    import psycopg

    db.engine.dispose()

    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.pgconn.trace(fileno)
        dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    sa.event.listen(db.engine, "connect", trace, once=True)
    db.engine.connect().close()  # pooled and just used, as under load: no ping at checkout
    with open(fileno, "w", closefd=False) as log:
        log.truncate(0)  # the connection's own start-up is no event's cost


@pytest.fixture
def meter(sandbox, tmp_path) -> Iterator[Meter]:
    yield Meter(sandbox, tmp_path / "libpq.trace")


@pytest.mark.parametrize(("frequency", "budget"), [("month", MONTHLY), ("one_off", ONE_OFF)])
def test_each_event_stays_within_its_budget(sandbox, checkout, meter, backend, frequency, budget):
    session, _ = checkout(frequency, 1000, "USD")
    sandbox.webhooks.hold()
    sandbox.pay(session.id, email=f"cost-{frequency}@example.org")
    events = sandbox.webhooks.pending()
    sandbox.webhooks.drop()
    sandbox.webhooks.release()
    assert set(budget) == {e["type"] for e in events} & set(HANDLERS)

    for event in events:
        counts = meter.measure(lambda e=event: sandbox.webhooks.redeliver(e["id"]))
        handled = event["type"] in HANDLERS
        statements, stripe_requests = budget[event["type"]] if handled else UNHANDLED
        spent = (counts["statements"], counts["stripe"])
        assert spent <= (statements, stripe_requests), f"{event['type']} cost {spent}"
        assert counts["stripe"] <= stripe_requests, event["type"]
        if backend == "postgresql":
            limit = statements + EXTRA_ROUND_TRIPS
            assert counts["round_trips"] <= limit, (event["type"], dict(counts))
