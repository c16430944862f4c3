"""The webhook inbox page: states, filters, escaping, paging, and an admin's replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from membership import sandbox, stripe_api
from membership.dashboard.inbox import services as inbox
from membership.extensions import db
from membership.models import AuditEntry, Donation, Frequency, StaffRole, StripeEvent
from tests.dashboard.conftest import PASSWORD, make_account
from tests.factories import FIXED_NOW, make_checkout_attempt, make_event

pytestmark = pytest.mark.usefixtures("app_context")


def pay_one_off_checkout(app) -> None:
    """A reader gives 15 EUR once in the sandbox; its webhooks land in the inbox."""
    attempt = make_checkout_attempt(frequency=Frequency.ONE_OFF, amount=1500, currency="EUR")
    metadata = {"attempt": attempt.reference, "campaign": "", "frequency": "one_off"}
    session = stripe_api.client().v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "submit_type": "donate",
            "success_url": "https://news.example/thanks?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://news.example/support",
            "client_reference_id": attempt.reference,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1500,
                        "product_data": {"name": "Support independent reporting"},
                    },
                }
            ],
        }
    )
    sandbox.of(app).pay(session.id)


def test_lists_events_newest_first_with_state(viewer_client):
    make_event(id="evt_old", received_at=FIXED_NOW, processed_at=FIXED_NOW, attempts=1)
    make_event(id="evt_mid", received_at=FIXED_NOW + timedelta(minutes=1), last_error="boom")
    make_event(id="evt_new", received_at=FIXED_NOW + timedelta(minutes=2))
    make_event(
        id="evt_gone",
        received_at=FIXED_NOW - timedelta(minutes=1),
        last_error="InvalidRequestError: No such invoice: 'in_gone'",
        missing_at_stripe=True,
    )
    page = viewer_client.get("/staff/webhooks").get_data(as_text=True)
    assert page.index("evt_new") < page.index("evt_mid") < page.index("evt_old")
    for state in ("processed", "failed", "pending"):
        assert f'state-{state}">{state}' in page
    assert 'state-missing">not found at Stripe' in page
    assert "Replay" not in page  # viewers may look, not act


def test_filters_by_type_and_state(viewer_client):
    make_event(id="evt_paid_ok", type="invoice.paid", processed_at=FIXED_NOW)
    make_event(id="evt_paid_bad", type="invoice.paid", last_error="boom")
    make_event(id="evt_refund_bad", type="charge.refunded", last_error="boom")
    failed = viewer_client.get("/staff/webhooks?state=failed").get_data(as_text=True)
    assert "evt_paid_bad" in failed and "evt_refund_bad" in failed and "evt_paid_ok" not in failed
    both = viewer_client.get("/staff/webhooks?state=failed&type=invoice.paid").get_data(
        as_text=True
    )
    assert "evt_paid_bad" in both and "evt_refund_bad" not in both and "evt_paid_ok" not in both
    pending = viewer_client.get("/staff/webhooks?state=pending").get_data(as_text=True)
    assert "No events match" in pending
    make_event(id="evt_gone", type="invoice.paid", last_error="No such", missing_at_stripe=True)
    missing = viewer_client.get("/staff/webhooks?state=missing").get_data(as_text=True)
    assert "evt_gone" in missing and "evt_paid_bad" not in missing
    failed = viewer_client.get("/staff/webhooks?state=failed").get_data(as_text=True)
    assert "evt_gone" not in failed and "evt_paid_bad" in failed


def test_last_error_is_escaped_and_truncated(viewer_client):
    make_event(id="evt_xss", last_error="<script>alert(1)</script>" + "x" * 3000)
    page = viewer_client.get("/staff/webhooks").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert "x" * 1100 not in page


def test_pages_with_a_keyset_cursor(viewer_client, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    for n in range(5):
        make_event(id=f"evt_p{n}", received_at=FIXED_NOW + timedelta(minutes=n))
    seen, url = [], "/staff/webhooks"
    while url:
        found = inbox.find_events(None, None, url.partition("after=")[2] or None)
        seen += [e.id for e in found.events]
        page = viewer_client.get(url).get_data(as_text=True)
        assert all(e.id in page for e in found.events)
        url = f"/staff/webhooks?after={found.next_cursor}" if found.next_cursor else ""
        assert (found.next_cursor is not None) == ("Older events" in page)
    assert seen == ["evt_p4", "evt_p3", "evt_p2", "evt_p1", "evt_p0"]


def test_admin_replays_a_failed_sandbox_event(app, admin_client, admin):
    pay_one_off_checkout(app)
    completed = db.session.scalars(
        sa.select(StripeEvent).where(StripeEvent.type == "checkout.session.completed")
    ).one()
    donations_before = db.session.scalar(sa.select(sa.func.count()).select_from(Donation))
    assert donations_before == 1
    # As if the first attempt had failed and been rolled back.
    completed.processed_at, completed.last_error = None, "RuntimeError: database went away"
    db.session.commit()
    assert "Replay" in admin_client.get("/staff/webhooks?state=failed").get_data(as_text=True)

    response = admin_client.post(
        f"/staff/webhooks/{completed.id}/replay", data={"back": "/staff/webhooks?state=failed"}
    )

    assert response.status_code == 302
    assert response.location == "/staff/webhooks?state=failed"
    db.session.expire_all()
    replayed = db.session.get(StripeEvent, completed.id)
    assert replayed.processed_at is not None and replayed.last_error is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "webhook.replay")
    ).one()
    assert entry.staff_user_id == admin.id
    assert (entry.target_type, entry.target_id) == ("stripe_event", completed.id)
    assert entry.detail == {"outcome": "processed"}


def test_replay_of_an_event_not_in_the_inbox_is_404(admin_client):
    assert admin_client.post("/staff/webhooks/evt_nowhere/replay").status_code == 404


def unhandled_event(event_id: str = "evt_unhandled") -> StripeEvent:
    """A complete event of a type no handler takes: replaying it is harmless ("ignored")."""
    payload = {
        "id": event_id,
        "object": "event",
        "type": "customer.updated",
        "created": int(FIXED_NOW.timestamp()),
        "data": {"object": {"id": "cus_test000001", "object": "customer"}},
    }
    return make_event(id=event_id, type="customer.updated", payload=payload)


def test_replay_refuses_an_offsite_back_link(admin_client):
    event = unhandled_event()
    response = admin_client.post(
        f"/staff/webhooks/{event.id}/replay", data={"back": "//evil.example/"}
    )
    assert response.location == "/staff/webhooks"


def test_replay_needs_csrf_token_when_enabled(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        event = unhandled_event()
        admin = make_account(StaffRole.ADMIN)
        client = app.test_client()
        form = client.get("/staff/login").get_data(as_text=True)
        token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        data = {"email": admin.email, "password": PASSWORD, "csrf_token": token}
        assert client.post("/staff/login", data=data).status_code == 302
        assert client.post(f"/staff/webhooks/{event.id}/replay").status_code == 400
        assert db.session.get(StripeEvent, event.id).attempts == 0


def test_the_type_menu_lists_each_stored_type_once_in_order(app):
    assert inbox.event_types() == []
    for n, kind in enumerate(
        ["invoice.paid", "charge.refunded", "invoice.paid", "customer.updated"]
    ):
        make_event(id=f"evt_menu_{n}", type=kind)
    assert inbox.event_types() == ["charge.refunded", "customer.updated", "invoice.paid"]


@pytest.mark.postgres_only
def test_inbox_pages_read_an_index_in_order_instead_of_sorting_every_event(app, backend):
    """With sorts and full scans priced out, PostgreSQL still plans none: an index serves each
    page's order (all events, one type, the failed ones, a deep page) and the type menu."""
    if backend != "postgresql":
        pytest.skip("the query plans are PostgreSQL's")
    for n in range(3):
        make_event(id=f"evt_plan_{n}", type="invoice.paid", processed_at=FIXED_NOW)
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "stripe_event" in statement and "pk_stripe_event" not in statement:
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        inbox.find_events(None, None, None)
        inbox.find_events("invoice.paid", None, None)
        inbox.find_events(None, "failed", None)
        inbox.find_events(None, None, "evt_plan_1")
        inbox.event_types()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    pages = [s for s in seen if "ORDER BY" in s[0] or "RECURSIVE" in s[0]]
    assert len(pages) == 5, seen
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    for statement, parameters in pages:
        plan = "\n".join(
            r[0] for r in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
        assert "Sort" not in plan and "Seq Scan" not in plan, plan
