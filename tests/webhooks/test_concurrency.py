"""Racing deliveries of one event on PostgreSQL: one row, one effect, no 500."""

from __future__ import annotations

import threading

import pytest

from membership.models import Donation, Member, OutboxEmail, StripeEvent
from tests.webhooks.conftest import one, rows, signed_delivery

pytestmark = pytest.mark.usefixtures("app_context")

pytestmark = pytest.mark.postgres_only
DELIVERIES = 20


@pytest.fixture(autouse=True)
def _postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("SQLite has no row locks or concurrent writers: the race needs PostgreSQL")


def post_concurrently(app, bodies: list[tuple[bytes, dict[str, str]]]) -> list[int]:
    """POST each body from its own thread and test client, all released at once."""
    start = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def post(index: int) -> None:
        body, headers = bodies[index]
        client = app.test_client()
        start.wait()
        statuses[index] = client.post("/stripe/webhook", data=body, headers=headers).status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_twenty_racing_deliveries_of_one_event_apply_it_once(app, sandbox, checkout):
    session, _ = checkout("one_off", 2500, "USD")
    sandbox.webhooks.hold()
    sandbox.pay(session.id, email="race@example.org")
    [completed] = [
        e for e in sandbox.webhooks.pending() if e["type"] == "checkout.session.completed"
    ]
    others = [e["id"] for e in sandbox.webhooks.pending() if e["id"] != completed["id"]]
    sandbox.webhooks.release(order=others)

    statuses = post_concurrently(app, [signed_delivery(app, completed)] * DELIVERIES)

    assert statuses == [200] * DELIVERIES
    stored = [e for e in rows(StripeEvent) if e.id == completed["id"]]
    assert len(stored) == 1 and stored[0].attempts == 1
    assert one(Donation).amount == 2500 and one(Member).status == "active"
    assert len(rows(OutboxEmail)) == 1


def test_a_checkouts_events_racing_each_other_make_one_member(app, sandbox, checkout):
    session, _ = checkout("month", 1000, "USD")
    sandbox.webhooks.hold()
    sandbox.pay(session.id, email="together@example.org")
    events = sandbox.webhooks.pending()
    sandbox.webhooks.drop()
    sandbox.webhooks.release()

    statuses = post_concurrently(app, [signed_delivery(app, e) for e in events for _ in range(2)])
    # A deadlock or lost race may answer 500; Stripe then retries, which must finish the job.
    for event in events:
        sandbox.webhooks.redeliver(event["id"])

    assert set(statuses) <= {200, 500}
    assert one(Member).status == "active"
    assert one(Donation).amount == 1000
    assert all(e.processed_at is not None for e in rows(StripeEvent))
