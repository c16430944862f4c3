"""Erasure that holds: erased donors leave keyed fingerprints, never their email or ids.

Each erased email and Stripe customer id is kept as HMAC-SHA256 under ERASURE_KEY. Anything
that arrives later naming them (a webhook delayed by an outage, a retry, a crafted event) is
recognised by its fingerprint: its stored copy is scrubbed, and the gift it reports is counted
on the erased member's pseudonymous row, with no email, name or outbox row made from it. A
donor who gives again through a new checkout after erasure comes back by their own act: that
checkout's fingerprints are dropped and they become a new member.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from membership.extensions import conflict_insert, db
from membership.models import CheckoutAttempt, ErasedIdentity, Member

EMAIL, CUSTOMER = "email", "customer"
# Keys whose string values are email addresses, wherever they sit in a Stripe object.
EMAIL_KEYS = frozenset({"email", "customer_email", "receipt_email"})
NAME_KEYS = frozenset({"name", "customer_name"})


def key() -> bytes:
    """ERASURE_KEY, else one derived from SECRET_KEY (rotating that one then forgets erasures:
    set ERASURE_KEY on its own in production)."""
    configured = current_app.config.get("ERASURE_KEY")
    if configured:
        return str(configured).encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"membership erasure fingerprints", hashlib.sha256).digest()


def fingerprint(kind: str, value: str) -> str:
    normal = value.strip().casefold() if kind == EMAIL else value.strip()
    return hmac.new(key(), f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()


def remember(member: Member, email: str | None, customer_ids: Iterable[str]) -> None:
    """Keep the fingerprints of what erasure is about to remove (its customers blanked at
    Stripe already)."""
    values = [(EMAIL, email)] if email else []
    values += [(CUSTOMER, c) for c in customer_ids if c]
    now = datetime.now(UTC)
    for kind, value in values:
        print_ = fingerprint(kind, value)
        identity = db.session.get(ErasedIdentity, print_)
        if identity is None:
            identity = ErasedIdentity(fingerprint=print_, kind=kind, erased_at=now)
            db.session.add(identity)
        identity.member_id = member.id
        identity.erased_at = now
        identity.forgotten_at = now if kind == CUSTOMER else None


def erased_member(customer_id: str | None, email: str | None) -> Member | None:
    """The erased member this customer or email belonged to, if either was erased."""
    prints = [fingerprint(CUSTOMER, customer_id)] if customer_id else []
    prints += [fingerprint(EMAIL, email)] if email else []
    if not prints:
        return None
    identity = db.session.scalars(
        sa.select(ErasedIdentity).where(ErasedIdentity.fingerprint.in_(prints)).limit(1)
    ).first()
    return db.session.get(Member, identity.member_id) if identity and identity.member_id else None


@dataclass
class Found:
    """The people an event names: its emails, Stripe customer ids and names."""

    emails: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)


def named_in(value: Any, found: Found | None = None) -> Found:
    found = found if found is not None else Found()
    if isinstance(value, dict):
        if value.get("object") == "customer" and isinstance(value.get("id"), str):
            found.customers.add(value["id"])
        for k, v in value.items():
            if isinstance(v, str):
                if k in EMAIL_KEYS and "@" in v:
                    found.emails.add(v.strip().casefold())
                elif k == "customer" and v.startswith("cus_"):
                    found.customers.add(v)
                elif k in NAME_KEYS and v.strip():
                    found.names.add(v.strip().casefold())
            else:
                named_in(v, found)
    elif isinstance(value, list):
        for item in value:
            named_in(item, found)
    return found


@dataclass
class Late:
    """An event about an erased donor: who they were, and what it names of them."""

    member_ids: set[int]
    found: Found
    erased_at: datetime


def late_news(payload: dict[str, Any]) -> Late | None:
    """Whether this event names an erased donor and is not their own new checkout."""
    found = named_in(payload.get("data"))  # the object and an update's previous values
    prints = {fingerprint(EMAIL, e): e for e in found.emails}
    prints |= {fingerprint(CUSTOMER, c): c for c in found.customers}
    if not prints:
        return None
    identities = list(
        db.session.scalars(
            sa.select(ErasedIdentity).where(ErasedIdentity.fingerprint.in_(list(prints)))
        )
    )
    if not identities:
        return None
    erased_at = max(i.erased_at for i in identities)
    if comes_back(payload, erased_at):
        # Their new checkout: what it names is theirs to give again.
        for identity in identities:
            db.session.delete(identity)
        db.session.flush()
        return None
    return Late({i.member_id for i in identities if i.member_id}, found, erased_at)


def comes_back(payload: dict[str, Any], erased_at: datetime) -> bool:
    """A Checkout Session the reader started on our form after being erased."""
    obj = payload.get("data", {}).get("object") or {}
    if obj.get("object") != "checkout.session":
        return False
    ours = [CheckoutAttempt.stripe_checkout_session_id == obj.get("id")]
    if obj.get("client_reference_id"):
        ours.append(CheckoutAttempt.reference == obj["client_reference_id"])
    started = db.session.scalar(sa.select(CheckoutAttempt.created_at).where(sa.or_(*ours)))
    return started is not None and started > erased_at


def remember_customers(late: Late) -> None:
    """Fingerprint the customers a late event names, also those erasure never saw (a checkout
    paid before erasure whose news comes after it)."""
    member_id = min(late.member_ids) if late.member_ids else None
    rows = [
        {
            "fingerprint": fingerprint(CUSTOMER, customer_id),
            "kind": CUSTOMER,
            "member_id": member_id,
            "erased_at": late.erased_at,
        }
        for customer_id in sorted(late.found.customers)
    ]
    if rows:
        table = ErasedIdentity.__table__
        insert = conflict_insert(table, db.session.get_bind().dialect.name)
        db.session.execute(insert.on_conflict_do_nothing(), rows)


def unforgotten(customer_ids: Iterable[str]) -> list[str]:
    """Which of these erased customers Stripe has not yet confirmed blanked."""
    prints = {fingerprint(CUSTOMER, c): c for c in customer_ids}
    if not prints:
        return []
    pending = db.session.scalars(
        sa.select(ErasedIdentity.fingerprint).where(
            ErasedIdentity.fingerprint.in_(list(prints)), ErasedIdentity.forgotten_at.is_(None)
        )
    )
    return sorted(prints[p] for p in pending)


def mark_forgotten(customer_ids: Iterable[str]) -> None:
    prints = [fingerprint(CUSTOMER, c) for c in customer_ids]
    if prints:
        db.session.execute(
            sa.update(ErasedIdentity)
            .where(ErasedIdentity.fingerprint.in_(prints))
            .values(forgotten_at=datetime.now(UTC))
        )
