"""Writing emails to the outbox: in the caller's transaction, one row per cause, ever."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import select

from membership.extensions import db
from membership.members import services as members
from membership.models import Member, OutboxEmail

# While history is imported from Stripe (membership/importer.py) the same apply path runs,
# but years of receipts, failure and cancellation notices must not go out now.
SILENCED: ContextVar[bool] = ContextVar("outbox_silenced", default=False)


@contextmanager
def silenced() -> Iterator[None]:
    token = SILENCED.set(True)
    try:
        yield
    finally:
        SILENCED.reset(token)


def find(dedupe_key: str) -> OutboxEmail | None:
    return db.session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key == dedupe_key))


def enqueue(
    member: Member | None, template: str, dedupe_key: str, context: dict[str, Any]
) -> OutboxEmail | None:
    """Add the email unless its dedupe key was used before; never raises on a racing twin.

    A member without an address (erased, or Stripe never gave one) gets no row: there is no
    one to write to, and the row would only sit in the outbox as a failure.
    """
    if member is None or not member.email or SILENCED.get():
        return None
    existing = find(dedupe_key)
    if existing is not None:
        return existing
    db.session.flush()  # ids, not relationships: a savepoint's flush must not cascade
    return members.add_unique(
        OutboxEmail(
            member_id=member.id,
            to_address=member.email,
            locale=member.locale or "en",
            template=template,
            dedupe_key=dedupe_key,
            context=context,
        ),
        lambda: find(dedupe_key),
    )


def find_prefix(prefix: str) -> OutboxEmail | None:
    """Any email whose dedupe key starts with `prefix` (a family of causes, e.g. one gift's)."""
    return db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.dedupe_key.startswith(prefix, autoescape=True))
    )
