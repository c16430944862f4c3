"""Each member's stored giving (totals per currency, last gift) stays equal to their gifts:
through every kind of change, a rollback, a race (PostgreSQL) and `flask members recount`.
A webhook's refund, the demo seed and migration 0005 are checked where those are tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from membership.extensions import db
from membership.members import giving
from membership.models import (
    COUNTED,
    Donation,
    DonationKind,
    DonationStatus,
    Member,
    MemberGiving,
)
from tests.dashboard.rollups.test_upkeep import backend_pid, in_thread, wait_until_blocked
from tests.factories import make_donation, make_member

pytestmark = pytest.mark.usefixtures("app_context")

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def at(day: int) -> datetime:
    return T0.replace(day=day)


def stored() -> dict[int, tuple[Any, ...]]:
    """member id -> (last gift, {currency: (kept, gifts, last gift)}), as stored."""
    db.session.expire_all()
    found: dict[int, tuple[Any, ...]] = {}
    for member in db.session.scalars(sa.select(Member)):
        rows = db.session.scalars(
            sa.select(MemberGiving).where(MemberGiving.member_id == member.id)
        )
        per = {g.currency: (g.kept, g.gifts, g.last_gift_at) for g in rows if g.gifts}
        found[member.id] = (member.last_gift_at, per)
    return found


def counted_by_hand() -> dict[int, tuple[Any, ...]]:
    """The same, worked out in Python from every gift: what the stored rows must equal."""
    db.session.expire_all()
    found: dict[int, tuple[Any, ...]] = {}
    for member in db.session.scalars(sa.select(Member)):
        per: dict[str, tuple[int, int, datetime]] = {}
        for gift in db.session.scalars(sa.select(Donation).where(Donation.member_id == member.id)):
            if gift.status not in COUNTED:
                continue
            kept = (
                0
                if gift.status == DonationStatus.DISPUTE_LOST
                else gift.amount - gift.amount_refunded
            )
            total, count, last = per.get(gift.currency, (0, 0, gift.paid_at))
            per[gift.currency] = (total + kept, count + 1, max(last, gift.paid_at))
        last_gift = max((last for _, _, last in per.values()), default=None)
        found[member.id] = (last_gift, per)
    return found


def test_every_kind_of_change_to_gifts_keeps_the_stored_giving_equal_to_them(app):
    ana, ben = make_member(), make_member()
    usd = make_donation(ana, amount=1000, paid_at=at(3))
    make_donation(ana, amount=5000, currency="JPY", paid_at=at(9))
    late = make_donation(ana, amount=2000, paid_at=at(20))
    make_donation(ben, amount=700, currency="EUR", paid_at=at(4))
    assert stored() == counted_by_hand()
    assert stored()[ana.id] == (at(20), {"USD": (3000, 2, at(20)), "JPY": (5000, 1, at(9))})

    changes = [
        lambda: setattr(late, "amount_refunded", 500),  # partial refund
        lambda: setattr(usd, "status", DonationStatus.REFUNDED),  # still counted, less refunds
        lambda: setattr(late, "status", DonationStatus.DISPUTE_LOST),  # counted, nothing kept
        lambda: setattr(late, "status", DonationStatus.FAILED),  # not counted at all
        lambda: setattr(usd, "paid_at", at(28)),  # the last gift moves
        lambda: setattr(usd, "member_id", ben.id),  # moved: both members change
        lambda: db.session.delete(usd),
    ]
    for change in changes:
        change()
        db.session.commit()
        assert stored() == counted_by_hand()
    assert stored()[ana.id] == (at(9), {"JPY": (5000, 1, at(9))})
    assert stored()[ben.id] == (at(4), {"EUR": (700, 1, at(4))})


def test_a_change_the_totals_do_not_show_refreshes_nothing(app):
    gift = make_donation(make_member(), amount=1000, paid_at=at(3))
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        gift.fee = 59
        gift.stripe_charge_id = "ch_fee_only"
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert any(s.startswith("UPDATE donation") for s in seen), seen
    assert not [s for s in seen if "member_giving" in s or "FOR UPDATE" in s], seen


def test_a_rolled_back_change_is_neither_stored_nor_refreshed_later(app):
    gift = make_donation(make_member(), amount=1000, paid_at=at(3))
    before = stored()
    gift.amount_refunded = 1000
    db.session.flush()
    db.session.rollback()
    assert giving.PENDING not in db.session.info
    make_member()  # a later, unrelated commit
    assert stored()[gift.member_id] == before[gift.member_id]
    assert stored() == counted_by_hand()


@pytest.mark.postgres_only
def test_racing_gifts_of_one_member_both_count(app, backend):
    """The second refresh waits for the first one's lock, then reads its gift (PostgreSQL)."""
    if backend != "postgresql":
        pytest.skip("SQLite has no row locks or concurrent writers: the race needs PostgreSQL")
    # Paid in a month still to come, which no rollup marks (as it would a closing month, also
    # the current one on its last day): that row lock would serialise the writers first.
    first = datetime.now(UTC).replace(microsecond=0) + timedelta(days=62)
    second = first + timedelta(minutes=2)
    member = make_member()
    db.session.add(Donation(member_id=member.id, kind=DonationKind.ONE_OFF, amount=1000,
                            currency="USD", paid_at=first))  # fmt: skip
    db.session.flush()
    giving.refresh(db.session.connection(), [member.id])  # holds the member's lock

    def second_gift() -> None:
        db.session.add(Donation(member_id=member.id, kind=DonationKind.ONE_OFF, amount=250,
                                currency="USD", paid_at=second))  # fmt: skip

    thread, seen, errors = in_thread(app, second_gift)
    assert wait_until_blocked(seen, backend_pid(), thread), "the second refresh did not wait"
    db.session.commit()
    thread.join()
    assert not errors
    both = (second, {"USD": (1250, 2, second)})
    assert stored()[member.id] == both == counted_by_hand()[member.id]


def test_recount_counts_gifts_written_around_the_orm(app, runner):
    """As after the demo seed's bulk load or an edit by hand: `flask members recount`."""
    member = make_member()
    table = Donation.__table__
    db.session.execute(
        sa.insert(table),
        [
            {
                "member_id": member.id,
                "kind": "one_off",
                "status": "succeeded",
                "amount": 900,
                "amount_refunded": 0,
                "currency": "GBP",
                "paid_at": at(7),
            },
            {
                "member_id": member.id,
                "kind": "one_off",
                "status": "pending",
                "amount": 100,
                "amount_refunded": 0,
                "currency": "GBP",
                "paid_at": at(8),
            },
        ],
    )
    db.session.commit()
    assert stored()[member.id] == (None, {})  # nothing saw them
    result = runner.invoke(args=["members", "recount"])
    assert result.exit_code == 0 and "giving recounted" in result.output
    assert stored()[member.id] == (at(7), {"GBP": (900, 1, at(7))}) == counted_by_hand()[member.id]
