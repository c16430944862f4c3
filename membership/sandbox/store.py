"""The sandbox's state: objects by id, the clock, the webhook queue and idempotent answers.

In memory for tests; with a file (demo mode), every process serving the demo shares it and a
restart keeps it (membership/sandbox/disk.py).
"""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from typing import TYPE_CHECKING, Any

import stripe

from membership.sandbox import versions
from membership.sandbox.errors import StripeError

if TYPE_CHECKING:
    from membership.sandbox.disk import Disk

DAY = 86_400
Obj = dict[str, Any]

# Stripe's own names for objects in "No such ..." messages.
NOUNS = {
    "checkout.session": "checkout.session",
    "billing_portal.session": "session",
    "subscription_schedule": "subscription schedule",
}

# How many random characters follow each prefix in Stripe's ids (its published example
# objects, openapi/fixtures3.json: cus_NffrFeUfNV2Hib, pi_3MtwBwLkdIwHu7ix28a3tqPa, ...).
# Any prefix not listed gets 24, the most common length.
ID_LENGTHS = {"cs_test": 58, "cus": 14, "prod": 14, "si": 14, "req": 14}
BASE62 = string.digits + string.ascii_letters


def random_id(prefix: str) -> str:
    """An id shaped like Stripe's: prefix, underscore, random base62 characters."""
    length = ID_LENGTHS.get(prefix, 24)
    return f"{prefix}_" + "".join(secrets.choice(BASE62) for _ in range(length))


class Store:
    """All sandbox state, changed only inside `with store.lock:` (a transaction with a file)."""

    def __init__(self, start_time: int | None = None, path: str | None = None) -> None:
        self.objects: dict[str, Obj] = {}
        self.now = start_time if start_time is not None else int(time.time())
        self.api_version = stripe.api_version
        self.events: list[Obj] = []  # in the order they were emitted
        self.undelivered: list[str] = []
        # Answers to requests made with an Idempotency-Key: key -> (request, status, body).
        self.idempotency: dict[str, tuple[list[str], int, Obj]] = {}
        self.next_seq = 0  # creation order, which breaks ties in `created` when listing
        # Each type's objects in list order, kept until an object of that type is added or
        # replaced (`changes`), or a file brings other processes' writes (`loaded`): a list
        # endpoint pages through 100 at a time and must not sort the whole account per page.
        self.changes: dict[str, int] = {}
        self.loaded = 0
        self._listings: dict[str, tuple[tuple[int, int], list[Obj], dict[str, int]]] = {}
        self.public_url = ""  # where browsers reach /sandbox/... pages; "" means this host
        self.request: Obj = {"id": None, "idempotency_key": None}
        self.disk: Disk | None = None
        if path is not None:
            from membership.sandbox.disk import Disk

            self.disk = Disk(self, path)
        self.lock = Transaction(self)

    def new_id(self, prefix: str) -> str:
        object_id = random_id(prefix)
        while object_id in self.objects:  # never reuse one (62**14 makes this theoretical)
            object_id = random_id(prefix)
        return object_id

    def add(self, obj: Obj) -> Obj:
        if obj["id"] not in self.objects:
            obj.setdefault("_seq", self.next_seq)
            self.next_seq += 1
        self.objects[obj["id"]] = obj
        self.changes[obj["object"]] = self.changes.get(obj["object"], 0) + 1
        self.touch(obj["id"])
        return obj

    def get(self, object_id: str, object_name: str, param: str = "id") -> Obj:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != object_name:
            raise StripeError.missing(NOUNS.get(object_name, object_name), object_id, param)
        self.touch(object_id)
        return obj

    def all(self, object_name: str) -> list[Obj]:
        """Objects of one type, newest first as Stripe lists them, handed out for change."""
        found, _ = self.listing(object_name)
        for obj in found:
            self.touch(obj["id"])
        return list(found)

    def listing(self, object_name: str) -> tuple[list[Obj], dict[str, int]]:
        """Objects of one type, newest first, and each one's place in that order: to read,
        not to change (nothing is noted for writing back)."""
        stamp = (self.changes.get(object_name, 0), self.loaded)
        cached = self._listings.get(object_name)
        if cached is None or cached[0] != stamp:
            found = [o for o in self.objects.values() if o["object"] == object_name]
            found.sort(key=lambda o: (o.get("created", 0), o.get("_seq", 0)), reverse=True)
            cached = (stamp, found, {o["id"]: n for n, o in enumerate(found)})
            self._listings[object_name] = cached
        return cached[1], cached[2]

    def touch(self, object_id: str) -> None:
        """Note an object handed out for change: the transaction writes it back if it changed."""
        if self.disk is not None:
            self.disk.touched.add(object_id)

    def remember(self, key: str, answer: tuple[list[str], int, Obj]) -> None:
        self.idempotency[key] = answer
        if self.disk is not None:
            self.disk.new_keys.append(key)

    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj:
        """Record an event carrying a snapshot of `obj`, queued for webhook delivery."""
        rendered = versions.render(self, copy.deepcopy(public(obj)), self.api_version)
        data: Obj = {"object": rendered}
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


class Transaction:
    """The store's lock, re-entrant within a thread. With a file, the outermost hold is one
    SQLite write transaction: it first reads what other processes wrote since this one last
    looked, and on leaving writes back what changed. A StripeError is an answer, such as a
    decline that leaves a failed charge behind, so it is kept; any other error forgets it all."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.mutex = threading.RLock()
        self.depth = 0

    def __enter__(self) -> Transaction:
        self.mutex.acquire()
        self.depth += 1
        if self.depth == 1 and self.store.disk is not None:
            try:
                self.store.disk.begin()
            except BaseException:
                self.depth -= 1
                self.mutex.release()
                raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        try:
            if self.depth == 1 and self.store.disk is not None:
                if exc_type is None or issubclass(exc_type, StripeError):
                    self.store.disk.commit()
                else:
                    self.store.disk.rollback()
        finally:
            self.depth -= 1
            self.mutex.release()


def public(obj: Obj) -> Obj:
    """The object as the API shows it, without the sandbox's private `_` fields."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def list_object(url: str, data: list[Obj], has_more: bool = False) -> Obj:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
