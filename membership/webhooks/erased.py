"""Late news about an erased donor: recognised before it is stored, and scrubbed.

Stripe may deliver an event hours late (after an outage, on a retry), so a donor can be erased
between paying and our hearing of it. Such an event is stored without the person in it; its
handler still counts the gift on the erased member's pseudonymous row (members/erasure.py
keeps that from making a member, an email or an outbox row), and every customer it names is
blanked at Stripe and any subscription it starts is cancelled, as erasure would have done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership import stripe_api
from membership.account import privacy
from membership.extensions import db
from membership.members import erasure
from membership.models import Member

ENDED = {"canceled", "incomplete_expired"}


@dataclass(frozen=True)
class Delivery:
    """An event as Stripe sent it, and the copy we may keep of it."""

    payload: dict[str, Any]
    stored: dict[str, Any]
    late: erasure.Late | None = None


def guard(payload: dict[str, Any]) -> Delivery:
    """Check an event against the erased donors' fingerprints before anything is stored."""
    late = erasure.late_news(payload)
    if late is None:  # the check's read (and a returning donor's prints dropped) go on in
        return Delivery(payload, payload)  # the event's own transaction
    erasure.remember_customers(late)
    # Committed before asking Stripe: the events those requests cause must find them too.
    db.session.commit()
    pending = erasure.unforgotten(late.found.customers)
    for customer_id in pending:
        stripe_api.forget_customer_details(customer_id)
    subscription = started_subscription(payload["data"]["object"])
    if subscription:
        stripe_api.cancel_subscription_now(subscription)
    if pending:
        erasure.mark_forgotten(pending)
    end_reads()
    stored = privacy.scrub(
        payload,
        late.found.emails,
        frozenset(late.found.names),
        frozenset(late.found.customers),
    )
    return Delivery(payload, stored, late)


def end_reads() -> None:
    """Commit what the check read and wrote, before Stripe is asked to blank anyone."""
    if db.session.registry.has() and db.session().in_transaction():
        db.session.commit()


def started_subscription(obj: dict[str, Any]) -> str | None:
    """The live subscription a late event brings: erasure would have cancelled it."""
    if obj.get("object") == "checkout.session" and isinstance(obj.get("subscription"), str):
        return obj["subscription"]
    if obj.get("object") == "subscription" and obj.get("status") not in ENDED:
        return obj.get("id")
    return None


def forget_again(late: erasure.Late) -> None:
    """After the handler: what it attached to the erased member loses its personal parts."""
    for member_id in sorted(late.member_ids):
        member = db.session.get(Member, member_id)
        if member is not None:
            privacy.erase_related(member, None)
