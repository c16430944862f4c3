"""A Stripe event as the handlers see it, and small readers for Stripe's JSON shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select

from membership.extensions import db
from membership.models import ATTRIBUTION_COLUMNS, CheckoutAttempt

Obj = dict[str, Any]
ATTRIBUTION_FIELDS = (*ATTRIBUTION_COLUMNS, "campaign_id")
# stripe_event's columns (models/newsroom.py): a longer id, type or version cannot be stored.
ID_LENGTH, TYPE_LENGTH, API_VERSION_LENGTH = 255, 100, 50
# Unix time of 2100-01-01: no Stripe event is dated later (nor earlier than 1970).
LATEST_CREATED = 4_102_444_800
# PostgreSQL stores neither a NUL nor half a surrogate pair in text or JSON.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What a handled event's object must hold for its handler to read it, besides its id
# (object_problem checks the types of the other fields handlers read).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "checkout.session.completed": ("mode",),
    "checkout.session.async_payment_succeeded": ("payment_intent",),
}


class NotYetKnown(RuntimeError):
    """The event refers to a payment we have not recorded yet; Stripe's retry will find it."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: datetime
    object: Obj

    @classmethod
    def from_payload(cls, payload: Obj) -> Event:
        return cls(
            id=payload["id"],
            type=payload["type"],
            created=timestamp(payload["created"]),
            object=payload["data"]["object"],
        )


def payload_problem(payload: Any) -> str | None:
    """Why a signed body is not an event the inbox can store; None if it is one."""
    if not isinstance(payload, dict):
        return "not an event"
    data = payload.get("data")
    if not (is_text(payload.get("id"), ID_LENGTH) and is_text(payload.get("type"), TYPE_LENGTH)):
        return "id or type missing or too long"
    created = payload.get("created")
    if type(created) is not int or not 0 <= created < LATEST_CREATED:
        return "created is not a time"
    version = payload.get("api_version")
    if version is not None and not is_text(version, API_VERSION_LENGTH):
        return "api_version is not a version"
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "no object"
    return None


def object_problem(event_type: str, obj: Obj) -> str | None:
    """Why a handled event's object cannot be read by its handler; None if it can."""
    if not is_text(obj.get("id"), ID_LENGTH):
        return "object without an id"
    mode, paid = obj.get("mode"), obj.get("payment_status") == "paid"
    required = REQUIRED_FIELDS.get(event_type, ())
    if event_type == "checkout.session.completed":
        required += ("subscription",) if mode == "subscription" else ()
        required += ("payment_intent",) if mode == "payment" and paid else ()
    for name in required:
        if not obj.get(name):
            return f"object without its {name}"
    for name in ("customer", "subscription", "payment_intent"):
        if not is_reference(obj.get(name)):
            return f"object's {name} is not an id"
    for name in ("mode", "payment_status", "client_reference_id", "email"):
        if not isinstance(obj.get(name), str | None):
            return f"object's {name} is not text"
    metadata, details = obj.get("metadata") or {}, obj.get("customer_details") or {}
    if not (isinstance(metadata, dict) and isinstance(metadata.get("attempt"), str | None)):
        return "object's metadata is malformed"
    if not (isinstance(details, dict) and isinstance(details.get("email"), str | None)):
        return "object's customer_details is malformed"
    if not isinstance(obj.get("attempt_count"), int | None):
        return "object's attempt_count is not a number"
    return None


def unstorable_text(payload: Obj) -> bool:
    """Whether any key or string holds a NUL or a lone surrogate, which PostgreSQL refuses."""
    pending: list[Any] = [payload]
    while pending:  # no recursion: a deep body must not reach Python's recursion limit
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and UNSTORABLE.search(value):
            return True
    return False


def is_text(value: Any, longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest


def is_reference(value: Any) -> bool:
    """None, an id, or the expanded object with its id."""
    if isinstance(value, dict):
        return is_text(value.get("id"), ID_LENGTH)
    return value is None or is_text(value, ID_LENGTH)


def timestamp(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def optional_timestamp(epoch: int | None) -> datetime | None:
    return None if epoch is None else timestamp(epoch)


def object_id(value: str | Obj | None) -> str | None:
    """An id whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def required_id(value: str | Obj | None) -> str:
    found = object_id(value)
    if not found:
        raise ValueError("Stripe object without the id this event needs")
    return found


def reference_of(obj: Obj) -> str | None:
    """The CheckoutAttempt.reference the checkout side put on the session, subscription or PI."""
    return obj.get("client_reference_id") or (obj.get("metadata") or {}).get("attempt") or None


# Built once, run with the reference bound.
ATTEMPT_BY_REFERENCE = select(CheckoutAttempt).where(
    CheckoutAttempt.reference == bindparam("reference")
)


def attempt_for(reference: str | None) -> CheckoutAttempt | None:
    if not reference:
        return None
    return db.session.scalar(ATTEMPT_BY_REFERENCE, {"reference": reference})


def copy_attribution(source: Any, target: Any) -> None:
    """Fill in where a gift came from (an attempt, or a renewal's recurring gift); keep values."""
    if source is None:
        return
    for name in ATTRIBUTION_FIELDS:
        if getattr(target, name) is None:
            setattr(target, name, getattr(source, name))
    is_attempt = isinstance(source, CheckoutAttempt)
    if is_attempt and hasattr(target, "checkout_attempt_id") and target.checkout_attempt_id is None:
        target.checkout_attempt_id = source.id
