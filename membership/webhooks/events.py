"""A Stripe event as the handlers see it, and small readers for Stripe's JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select

from membership.extensions import db
from membership.models import ATTRIBUTION_COLUMNS, CheckoutAttempt

Obj = dict[str, Any]
ATTRIBUTION_FIELDS = (*ATTRIBUTION_COLUMNS, "campaign_id")


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
