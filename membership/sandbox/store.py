"""The sandbox's in-memory state: objects by id, counters for ids, the clock and the event log."""

from __future__ import annotations

import copy
import threading
import time
from collections import defaultdict
from typing import Any

import stripe

from membership.sandbox.errors import StripeError

DAY = 86_400
Obj = dict[str, Any]

# Stripe's own names for objects in "No such ..." messages.
NOUNS = {"checkout.session": "checkout.session", "billing_portal.session": "session"}


class Store:
    """All sandbox state behind one re-entrant lock; objects are kept in their Stripe shape."""

    def __init__(self, start_time: int | None = None) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, Obj] = {}
        self.now = start_time if start_time is not None else int(time.time())
        self.api_version = stripe.api_version
        self._counters: dict[str, int] = defaultdict(int)
        # Test-card numbers behind payment methods: they decide later charges (renewals).
        self.cards: dict[str, str] = {}
        self.events: list[Obj] = []
        self.undelivered: list[str] = []
        self.delivered: set[str] = set()  # events some endpoint answered with 2xx
        self.public_url = ""  # where browsers reach /sandbox/... pages; "" means this host
        self.request: Obj = {"id": None, "idempotency_key": None}

    def new_id(self, prefix: str) -> str:
        """Stripe-prefixed ids from counters, so every run is reproducible."""
        self._counters[prefix] += 1
        return f"{prefix}_Sbx{self._counters[prefix]:011d}"

    def add(self, obj: Obj) -> Obj:
        self.objects[obj["id"]] = obj
        return obj

    def get(self, object_id: str, object_name: str, param: str = "id") -> Obj:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != object_name:
            raise StripeError.missing(NOUNS.get(object_name, object_name), object_id, param)
        return obj

    def all(self, object_name: str) -> list[Obj]:
        """Objects of one type, newest first as Stripe lists them."""
        found = [o for o in self.objects.values() if o["object"] == object_name]
        return sorted(found, key=lambda o: (o.get("created", 0), o["id"]), reverse=True)

    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj:
        """Record an event carrying a snapshot of `obj`, queued for webhook delivery."""
        data: Obj = {"object": copy.deepcopy(public(obj))}
        if previous:
            data["previous_attributes"] = copy.deepcopy(previous)
        event: Obj = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": self.now,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": dict(self.request),
            "type": event_type,
        }
        self.add(event)
        self.events.append(event)
        self.undelivered.append(event["id"])
        return event

    def update(self, obj: Obj, changes: Obj, event_type: str | None = None) -> Obj:
        """Apply top-level changes; emit `event_type` with Stripe's `previous_attributes`."""
        previous = {k: copy.deepcopy(obj.get(k)) for k, v in changes.items() if obj.get(k) != v}
        obj.update(changes)
        if event_type and previous:
            self.emit(event_type, obj, previous)
        return obj


def public(obj: Obj) -> Obj:
    """The object as the API shows it, without the sandbox's private `_` fields."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def list_object(url: str, data: list[Obj], has_more: bool = False) -> Obj:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
