"""Each member's giving, stored: totals per currency (MemberGiving) and the last gift's date.

Staff sort the member list by these; summing a million gifts for every page took a second.
They are derived from `donation` the way the monthly rollups are: any transaction that adds or
changes a member's gifts refreshes that member's rows just before it commits, from the gifts
as they then stand. A bulk load that bypasses the ORM (the demo seed) calls `rebuild()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.session import Session

from membership.extensions import conflict_insert
from membership.models import COUNTED, Donation, DonationStatus, Member, MemberGiving

# A change to any of these changes what the gift adds to its member's giving.
TRACKED = ("member_id", "status", "amount", "amount_refunded", "currency", "paid_at")
PENDING = "members_giving_changed"  # Session.info key: member ids to refresh before commit


def kept_amount() -> sa.ColumnElement[int]:
    """What a gift left with us: less refunds, nothing after a lost dispute."""
    lost = Donation.status == DonationStatus.DISPUTE_LOST
    return sa.case((lost, 0), else_=Donation.amount - Donation.amount_refunded)


@sa.event.listens_for(Session, "after_flush")
def note_changed_givers(session: Session, _context: Any) -> None:
    """Remember whose giving this flush changed: both members, if a gift moved between them."""
    changed: set[int] = set()
    for gift in chain(session.new, session.dirty, session.deleted):
        if not isinstance(gift, Donation):
            continue
        state = sa.inspect(gift)
        histories = [state.attrs[name].history for name in TRACKED]
        if gift in session.dirty and not any(h.has_changes() for h in histories):
            continue  # a fee, a Stripe id, attribution: nothing the totals show
        owner = histories[0]
        changed.update(i for i in chain(owner.unchanged, owner.added, owner.deleted) if i)
        if gift.member_id:
            changed.add(gift.member_id)
    if changed:  # most flushes change no gift: they leave the session as it was
        session.info.setdefault(PENDING, set()).update(changed)


@sa.event.listens_for(Session, "before_commit")
def refresh_changed(session: Session) -> None:
    session.flush()  # commit's own flush comes only after this hook; its changes count too
    if session.info.get(PENDING):
        refresh(session.connection(), session.info.pop(PENDING))


@sa.event.listens_for(Session, "after_transaction_end")
def forget_changed(session: Session, transaction: Any) -> None:
    """A rolled-back transaction's changes are gone: nothing of theirs left to refresh."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def refresh(connection: sa.Connection, member_ids: Iterable[int]) -> None:
    """Recount these members' giving from their gifts, in this transaction.

    The members' rows are locked first: a concurrent transaction refreshing the same member
    waits, and its statements then read this one's gifts, committed (READ COMMITTED takes a
    new snapshot per statement). SQLite ignores the lock; it runs one writer at a time.
    """
    ids = sorted(set(member_ids))
    if not ids:
        return
    lock, upsert_sums, last_gift = statements(connection.dialect.name, ids)
    connection.execute(lock)
    connection.execute(upsert_sums)
    connection.execute(last_gift)


def rebuild(connection: sa.Connection) -> None:
    """Recount every member's giving (after a bulk load), in this transaction."""
    _lock, upsert_sums, last_gift = statements(connection.dialect.name, None)
    connection.execute(upsert_sums)
    connection.execute(last_gift)


def statements(dialect_name: str, member_ids: list[int] | None) -> tuple[Any, Any, Any]:
    """Lock, upsert and last gift, for these members (None: everyone)."""

    def whose(column: Any) -> sa.ColumnElement[bool]:
        return sa.true() if member_ids is None else column.in_(member_ids)

    lock = sa.select(Member.id).where(whose(Member.id)).order_by(Member.id).with_for_update()
    last_gift = sa.update(Member).where(whose(Member.id)).values(last_gift_at=latest_gift())
    return lock, upsert(dialect_name, whose), last_gift


def upsert(dialect_name: str, whose: Callable[[Any], sa.ColumnElement[bool]]) -> Any:
    """INSERT ... SELECT the members' sums per currency over the rows stored before, which
    count as zeros: a currency whose last gift went to another member ends at zero."""
    counted = Donation.status.in_(COUNTED)
    table = MemberGiving.__table__
    gifts = sa.select(
        Donation.member_id,
        Donation.currency,
        sa.case((counted, kept_amount()), else_=0).label("kept"),
        sa.case((counted, 1), else_=0).label("gifts"),
        sa.case((counted, Donation.paid_at)).label("last_gift_at"),
    ).where(whose(Donation.member_id))
    before = sa.select(
        table.c.member_id, table.c.currency, sa.literal(0), sa.literal(0), sa.null()
    ).where(whose(table.c.member_id))
    both = sa.union_all(gifts, before).subquery()
    sums = (
        sa.select(
            both.c.member_id,
            both.c.currency,
            sa.func.sum(both.c.kept),
            sa.func.sum(both.c.gifts),
            sa.func.max(both.c.last_gift_at),
        )
        .where(sa.true())  # SQLite reads INSERT ... SELECT ... ON CONFLICT only after a WHERE
        .group_by(both.c.member_id, both.c.currency)
    )
    names = ["member_id", "currency", "kept", "gifts", "last_gift_at"]
    insert = conflict_insert(table, dialect_name).from_select(names, sums)
    return insert.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.currency],
        set_={name: insert.excluded[name] for name in names[2:]},
    )


def latest_gift() -> sa.ScalarSelect[Any]:
    """The member's newest counted gift in any currency, from the rows just refreshed."""
    return (
        sa.select(sa.func.max(MemberGiving.last_gift_at))
        .where(MemberGiving.member_id == Member.id)
        .scalar_subquery()
    )
