"""Webhook delivery: Stripe signatures, and the controls that hold, reorder, drop and repeat."""

from __future__ import annotations

import json

import pytest
import stripe

from membership.sandbox import Sandbox, wsgi_target


def test_every_delivery_verifies_with_construct_event(sandbox, open_session, inbox, webhook_secret):
    sandbox.pay(open_session().id)
    assert inbox.received
    for payload, headers in inbox.received:
        event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], webhook_secret)
        assert event.id.startswith("evt_") and event.api_version == stripe.api_version
    with pytest.raises(stripe.SignatureVerificationError):
        payload, headers = inbox.received[0]
        stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], "whsec_other")


def test_hold_then_release_in_reverse_order(sandbox, open_session, inbox):
    sandbox.webhooks.hold()
    sandbox.pay(open_session().id)
    assert inbox.received == []
    queued = [e["type"] for e in sandbox.webhooks.pending()]
    sandbox.webhooks.release(reverse=True)
    assert inbox.types() == list(reversed(queued))


def test_drop_and_duplicate(sandbox, stripe_client, inbox):
    sandbox.webhooks.hold()
    stripe_client.v1.customers.create(params={"email": "dropped@example.com"})
    sandbox.webhooks.drop()
    sandbox.webhooks.release()
    assert inbox.received == []
    sandbox.webhooks.duplicate = True
    stripe_client.v1.customers.create(params={"email": "twice@example.com"})
    bodies = [json.loads(body)["id"] for body, _ in inbox.received]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    sandbox.webhooks.redeliver(bodies[0])
    assert len(inbox.received) == 3


def test_receiver_404_is_recorded_not_raised(open_session, stripe_client):
    from flask import Flask

    receiver = Flask("no_webhook_endpoint_yet")
    sandbox = Sandbox(webhook_target=wsgi_target(receiver, "/stripe/webhook"))
    client = sandbox.client()
    client.v1.customers.create(params={"email": "x@example.com"})
    assert [d.status for d in sandbox.webhooks.deliveries] == [404]
    failed = client.v1.events.list(params={"delivery_success": False})
    assert [e.pending_webhooks for e in failed.data] == [1]


def test_a_crashing_receiver_counts_as_failed_delivery(stripe_client):
    def explode(payload: bytes, headers: dict[str, str]) -> int:
        raise RuntimeError("receiver bug")

    sandbox = Sandbox(webhook_target=explode)
    sandbox.client().v1.customers.create(params={"email": "x@example.com"})
    assert [d.ok for d in sandbox.webhooks.deliveries] == [False]
