"""The endpoint: only genuine, fresh Stripe signatures get in; unknown types are kept and acked."""

from __future__ import annotations

import json
import time

import pytest

from membership.models import StripeEvent
from membership.sandbox.webhooks import sign
from tests.webhooks.conftest import one, rows

pytestmark = pytest.mark.usefixtures("app_context")

EVENT = {
    "id": "evt_signature_test",
    "object": "event",
    "type": "customer.created",
    "created": 1_800_000_000,
    "data": {"object": {"id": "cus_x", "object": "customer"}},
}


def headers_for(app, body: bytes, case: str) -> dict[str, str]:
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    now = int(time.time())
    return {
        "missing": {},
        "empty": {"Stripe-Signature": ""},
        "malformed": {"Stripe-Signature": "t=notanumber,v1"},
        "no_v1": {"Stripe-Signature": f"t={now}"},
        "wrong_secret": {"Stripe-Signature": sign(body, "whsec_someone_else", now)},
        "stale": {"Stripe-Signature": sign(body, secret, now - 301)},
        "tampered": {"Stripe-Signature": sign(body.replace(b"cus_x", b"cus_y"), secret, now)},
    }[case]


@pytest.mark.parametrize(
    "case", ["missing", "empty", "malformed", "no_v1", "wrong_secret", "stale", "tampered"]
)
def test_bad_signatures_are_refused_with_400_and_write_nothing(app, client, case):
    body = json.dumps(EVENT).encode()
    response = client.post("/stripe/webhook", data=body, headers=headers_for(app, body, case))
    assert response.status_code == 400
    assert rows(StripeEvent) == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"id": "evt_1"}', b"\xff\xfe"])
def test_signed_bodies_that_are_not_events_are_refused(app, client, body):
    signature = sign(body, app.config["STRIPE_WEBHOOK_SECRET"], int(time.time()))
    response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature})
    assert response.status_code == 400
    assert rows(StripeEvent) == []


def test_unknown_types_are_stored_and_acknowledged(app, client):
    event = EVENT | {"id": "evt_unknown_type", "type": "radar.early_fraud_warning.created"}
    body = json.dumps(event).encode()
    signature = sign(body, app.config["STRIPE_WEBHOOK_SECRET"], int(time.time()))
    response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature})
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    stored = one(StripeEvent)
    assert stored.id == "evt_unknown_type" and stored.processed_at is not None
    assert stored.payload == event and stored.attempts == 1


def test_the_endpoint_needs_no_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True  # read per request by CSRFProtect
    body = json.dumps(EVENT | {"id": "evt_csrf_check"}).encode()
    signature = sign(body, app.config["STRIPE_WEBHOOK_SECRET"], int(time.time()))
    response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": signature})
    assert response.status_code == 200


def test_the_endpoint_is_not_rate_limited(database):
    from membership import create_app
    from membership.extensions import db

    app = create_app(database.config(RATELIMIT_DEFAULT="2 per day"))
    client = app.test_client()
    with app.app_context():
        for n in range(5):
            event = EVENT | {"id": f"evt_rate_{n}", "type": "customer.deleted"}
            body = json.dumps(event).encode()
            signature = sign(body, app.config["STRIPE_WEBHOOK_SECRET"], int(time.time()))
            response = client.post(
                "/stripe/webhook", data=body, headers={"Stripe-Signature": signature}
            )
            assert response.status_code == 200
        # Limits are on for everything else (the reader pages are unlimited on purpose).
        assert [client.get("/give").status_code for _ in range(3)] == [200, 200, 429]
        db.session.execute(StripeEvent.__table__.delete())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
