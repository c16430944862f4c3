"""Webhook delivery as Stripe does it (signed POSTs); controls to hold, reorder, drop, resend."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.test import Client

from membership.sandbox.store import Obj, Store, public

# A target gets the raw body and headers, and answers an HTTP status (0: unreachable).
Target = Callable[[bytes, dict[str, str]], int]


@dataclass(frozen=True)
class Delivery:
    event_id: str
    type: str
    status: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's `Stripe-Signature` header: t=<ts>,v1=<hex HMAC-SHA256 of "ts.payload">."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def http_target(url: str, timeout: float = 10.0) -> Target:
    def post(payload: bytes, headers: dict[str, str]) -> int:
        req = urllib.request.Request(url, data=payload, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError):
            return 0

    return post


def wsgi_target(app: Any, path: str) -> Target:
    """Deliver in-process to a WSGI app (the service's own `/stripe/webhook`)."""

    def post(payload: bytes, headers: dict[str, str]) -> int:
        return Client(app).post(path, data=payload, headers=headers).status_code

    return post


class Webhooks:
    """Signs and delivers the store's new events; tests steer delivery through these methods."""

    def __init__(self, store: Store, secret: str, target: Target | None = None) -> None:
        self.store = store
        self.secret = secret
        self.target = target
        self.held = False
        self.duplicate = False  # deliver every event twice, as Stripe may
        self.deliveries: list[Delivery] = []

    def flush(self) -> None:
        """Deliver what is queued, unless held; called after every state change."""
        if not self.held:
            self._deliver_all(self._take())

    def hold(self) -> None:
        """Queue events instead of delivering them, to delay or reorder them later."""
        self.held = True

    def pending(self) -> list[Obj]:
        with self.store.lock:
            return [self.store.objects[i] for i in self.store.undelivered]

    def release(self, order: Iterable[str] | None = None, reverse: bool = False) -> None:
        """Stop holding and deliver the queue: as queued, reversed, or in the given id order."""
        self.held = False
        ids = self._take()
        if order is not None:
            ids = list(order)
        elif reverse:
            ids.reverse()
        self._deliver_all(ids)

    def drop(self, event_ids: Iterable[str] | None = None) -> None:
        """Forget queued events (all by default): they stay in /v1/events, never delivered."""
        with self.store.lock:
            doomed = set(self.store.undelivered if event_ids is None else event_ids)
            self.store.undelivered = [i for i in self.store.undelivered if i not in doomed]

    def redeliver(self, event_id: str) -> Delivery:
        """Send an event again, as Stripe's retries and "resend" do."""
        return self._deliver(event_id)

    def _take(self) -> list[str]:
        with self.store.lock:
            ids, self.store.undelivered = self.store.undelivered, []
        return ids

    def _deliver_all(self, ids: list[str]) -> None:
        for event_id in ids:
            self._deliver(event_id)
            if self.duplicate:
                self._deliver(event_id)

    def _deliver(self, event_id: str) -> Delivery:
        with self.store.lock:
            event = public(self.store.get(event_id, "event"))
        if self.target is None:
            return Delivery(event["id"], event["type"], 0)
        payload = json.dumps(event, indent=2).encode()
        # Signatures use wall time even when the sandbox clock is advanced: receivers
        # (stripe.Webhook.construct_event) reject timestamps outside a 5-minute tolerance.
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(payload, self.secret, int(time.time())),
        }
        try:
            status = self.target(payload, headers)
        except Exception:
            status = 500
        delivery = Delivery(event["id"], event["type"], status)
        with self.store.lock:
            self.deliveries.append(delivery)
            if delivery.ok:
                stored = self.store.get(event_id, "event")
                stored.update(pending_webhooks=0, _delivered=True)
        return delivery
