"""Keeping the rollups: refresh, rebuild, coverage, the CLI and the demo seed; and a rebuild
racing a writer (PostgreSQL) never ends fresh but wrong."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from membership.dashboard.metrics import rollups
from membership.dashboard.metrics.periods import Period
from membership.dashboard.metrics.rollups import Coverage
from membership.extensions import db
from membership.models import (
    Donation,
    DonationKind,
    GiftMonth,
    RollupMonth,
    SourceMonth,
)
from tests.dashboard.rollups.data import (
    APR,
    BUILT_AT,
    DEC,
    EXPECTED,
    FEB,
    JAN,
    MAR,
    MAY,
    MONTHLY,
    PERIOD,
    RAISED,
    all_fresh_except,
    at,
    figures,
    freshness,
    frozen,
    get,
    groups,
    raw_figures,
    replace,
)
from tests.factories import make_member

pytestmark = pytest.mark.usefixtures("app_context")

# -- 3. refresh, rebuild and coverage ---------------------------------------------------------


def test_refresh_builds_only_closed_months_once(gifts):
    assert rollups.refresh(at(2026, 4, 1)) == [DEC, JAN, FEB, MAR]
    assert rollups.refresh(at(2026, 4, 30, 23, 59, 59)) == []
    rows = db.session.scalars(sa.select(RollupMonth))
    built = {row.month: (row.fresh, row.built_at) for row in rows}
    # April's gifts, written after it closed, marked it; it is still open on April 30th.
    assert built == {
        **{m: (True, at(2026, 4, 1)) for m in (DEC, JAN, FEB, MAR)},
        APR: (False, None),
    }
    assert rollups.refresh(BUILT_AT) == [APR, MAY]  # May had no gifts: built empty
    assert db.session.scalar(sa.select(sa.func.count()).where(GiftMonth.month == MAY)) == 0


def test_refresh_without_gifts_builds_nothing(app):
    assert rollups.refresh(BUILT_AT) == []
    assert freshness() == {}


def rolled_rows(month: date) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    gift_rows = db.session.execute(
        sa.select(*GiftMonth.__table__.c).where(GiftMonth.month == month)
    )
    source = SourceMonth.__table__.c
    source_rows = db.session.execute(
        sa.select(*(c for c in source if c.name != "id")).where(SourceMonth.month == month)
    )
    return sorted(map(tuple, gift_rows)), sorted(map(tuple, source_rows), key=repr)


def test_rebuild_replaces_a_months_totals(gifts):
    rollups.refresh(BUILT_AT)
    first = rolled_rows(MAR)
    # Five groups (g10 and g11, g14 and g17 share one); campaigns 3 rows, articles 2.
    assert len(first[0]) == 5 and len(first[1]) == 5
    for _ in range(2):
        rollups.rebuild(MAR, BUILT_AT)
        db.session.commit()
    assert rolled_rows(MAR) == first
    assert figures(PERIOD) == EXPECTED


def test_coverage_splits_a_period_around_stale_and_missing_months(gifts):
    rollups.refresh(at(2026, 5, 1))  # December to April
    rollups.mark_stale(db.session.connection(), [FEB])
    db.session.commit()
    assert rollups.coverage(PERIOD.start, PERIOD.end) == Coverage(
        [MAR], [(at(2026, 1, 15), at(2026, 3, 1)), (at(2026, 4, 1), at(2026, 4, 15))]
    )
    assert rollups.coverage(at(2025, 12, 1), at(2026, 6, 1)) == Coverage(
        [DEC, JAN, MAR, APR], [(at(2026, 2, 1), at(2026, 3, 1)), (at(2026, 5, 1), at(2026, 6, 1))]
    )
    assert rollups.coverage(at(2026, 3, 1), at(2026, 4, 1)) == Coverage([MAR], [])
    assert rollups.coverage(at(2026, 3, 5), at(2026, 3, 21)) == Coverage(
        [], [(at(2026, 3, 5), at(2026, 3, 21))]
    )


def test_refresh_rebuilds_a_month_left_without_gifts(gifts):
    rollups.refresh(BUILT_AT)
    db.session.delete(get(gifts, "december"))
    db.session.commit()
    assert freshness()[DEC] is False
    assert rollups.refresh(BUILT_AT) == [DEC]
    assert freshness() == all_fresh_except()


def test_mark_all_stale_marks_every_month_since_the_first_gift(gifts, monkeypatch):
    rollups.refresh(BUILT_AT)
    monkeypatch.setattr(rollups, "datetime", frozen(at(2026, 6, 15, 12)))
    rollups.mark_all_stale()
    db.session.commit()
    assert freshness() == {m: False for m in (DEC, JAN, FEB, MAR, APR, MAY, date(2026, 6, 1))}
    assert rollups.refresh(at(2026, 6, 15, 12)) == [DEC, JAN, FEB, MAR, APR, MAY]


# -- 4. the commands ----------------------------------------------------------------------------


def test_flask_dashboard_rollup(gifts, runner, monkeypatch):
    clock = frozen(at(2026, 6, 15, 12))
    monkeypatch.setattr("membership.dashboard.cli.datetime", clock)
    monkeypatch.setattr(rollups, "datetime", clock)
    result = runner.invoke(args=["dashboard", "rollup"])
    assert result.exit_code == 0, result.output
    assert result.output == "rebuilt 6 month(s): 2025-12 to 2026-05\n"
    assert runner.invoke(args=["dashboard", "rollup"]).output == "rebuilt 0 month(s)\n"
    assert freshness() == all_fresh_except()
    # A fix made in SQL, behind the ORM's back: only --all picks it up.
    db.session.execute(sa.update(Donation).where(Donation.id == gifts["g4"]).values(amount=5000))
    db.session.commit()
    assert runner.invoke(args=["dashboard", "rollup"]).output == "rebuilt 0 month(s)\n"
    assert figures(PERIOD)["monthly"] == MONTHLY
    result = runner.invoke(args=["dashboard", "rollup", "--all"])
    assert result.exit_code == 0, result.output
    assert result.output == "rebuilt 6 month(s): 2025-12 to 2026-05\n"
    assert figures(PERIOD)["monthly"] == replace(
        MONTHLY, ("2026-02", "USD", 5000), ("2026-02", "USD", 6000)
    )


def test_flask_demo_seed_leaves_every_closed_month_fresh(app, runner, monkeypatch):
    clock = frozen(at(2026, 6, 15, 12))
    monkeypatch.setattr("membership.dashboard.seed.datetime", clock)
    monkeypatch.setattr(rollups, "datetime", clock)
    result = runner.invoke(args=["demo", "seed", "--members", "50"])
    assert result.exit_code == 0, result.output
    first = db.session.scalar(sa.select(sa.func.min(Donation.paid_at)))
    closed = rollups.months_between(first, date(2026, 5, 1))
    assert len(closed) >= 30
    assert freshness() == {**dict.fromkeys(closed, True), date(2026, 6, 1): False}
    for period in [Period(first.date(), date(2026, 6, 15)), Period(date(2025, 2, 10), PERIOD.last)]:
        assert rollups.coverage(period.start, period.end).months
        assert figures(period) | {"groups": groups(period)} == raw_figures(period, monkeypatch)


# -- 5. a rebuild racing a writer (PostgreSQL: row locks) ---------------------------------------


def backend_pid() -> int:
    return db.session.scalar(sa.text("SELECT pg_backend_pid()"))


def wait_until_blocked(waiter: dict[str, int], holder: int, thread: threading.Thread) -> bool:
    """Poll PostgreSQL's lock table until the thread's connection waits on `holder`'s lock.
    False if the thread finished without ever waiting. Each poll is a query, not a sleep."""
    deadline = time.monotonic() + 60  # a guard against hanging, not a timing assertion
    while time.monotonic() < deadline:
        if not thread.is_alive():
            return False
        if "pid" in waiter:
            blockers = db.session.scalar(
                sa.text("SELECT pg_blocking_pids(:pid)"), {"pid": waiter["pid"]}
            )
            if holder in blockers:
                return True
    raise AssertionError("the other connection neither waited nor finished")


def in_thread(
    app, work, name: str = "worker"
) -> tuple[threading.Thread, dict[str, int], list[BaseException]]:
    """Run work() in its own app context, session and connection; its pid is shared first."""
    seen: dict[str, int] = {}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                seen["pid"] = backend_pid()
                work()
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported by the test: a thread's exception would vanish
            errors.append(exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, seen, errors


@pytest.fixture
def postgres_only(backend) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no row locks or concurrent writers: the race needs PostgreSQL")


@pytest.mark.postgres_only
@pytest.mark.parametrize("built_before", [True, False], ids=["month built", "never built"])
def test_a_rebuild_waits_for_a_writer_and_then_sees_its_change(
    postgres_only, app, gifts, built_before, monkeypatch
):
    if built_before:
        rollups.refresh(BUILT_AT)
    member = make_member()
    get(gifts, "g4").amount_refunded = 4000
    db.session.add(Donation(member=member, kind=DonationKind.ONE_OFF, amount=1234,
                            currency="EUR", paid_at=at(2026, 2, 5)))  # fmt: skip
    db.session.flush()  # the writer now holds February's rollup_month row
    thread, seen, errors = in_thread(app, lambda: rollups.rebuild(FEB, BUILT_AT))
    assert wait_until_blocked(seen, backend_pid(), thread), "the rebuild did not wait"
    db.session.commit()
    thread.join()
    assert not errors
    assert freshness()[FEB] is True  # built after the writer committed, with its change
    whole = Period(date(2026, 2, 1), date(2026, 2, 28))
    assert rollups.coverage(whole.start, whole.end).months == [FEB]
    rolled = figures(whole) | {"groups": groups(whole)}
    assert rolled == raw_figures(whole, monkeypatch)
    assert rolled["raised"][0][:4] == ("USD", 2, 5000, 4000)  # g3, and g4 now fully refunded
    assert ("2026-02", "EUR", 2734) in rolled["monthly"]


@pytest.mark.postgres_only
def test_a_writer_waits_for_a_rebuild_that_has_read_the_month(postgres_only, app, gifts):
    rollups.refresh(BUILT_AT)
    has_read, carry_on = threading.Event(), threading.Event()

    def pause(_conn, _cursor, statement: str, *_args: Any) -> None:
        """Hold the rebuild after it read `donation`, just before it marks the month fresh."""
        if threading.current_thread().name == "rebuild" and statement.startswith(
            "UPDATE rollup_month"
        ):
            has_read.set()
            carry_on.wait()

    def write() -> None:
        get(gifts, "g4").amount_refunded = 4000

    sa.event.listen(db.engine, "before_cursor_execute", pause)
    started = []
    try:
        started.append(in_thread(app, lambda: rollups.rebuild(FEB, BUILT_AT), name="rebuild"))
        assert has_read.wait(60), started[0][2]  # a guard against hanging, not a timing assertion
        started.append(in_thread(app, write))
        (_, rebuilder, _), (writer, writing, _) = started
        waited = wait_until_blocked(writing, rebuilder["pid"], writer)
    finally:
        carry_on.set()
        for thread, _, _ in started:
            thread.join()
        sa.event.remove(db.engine, "before_cursor_execute", pause)  # once no thread runs it
    assert waited, "the writer did not wait for the rebuild's lock"
    assert not [error for _, _, errors in started for error in errors]
    # The rebuild committed February fresh without the refund; the writer then marked it stale.
    assert freshness()[FEB] is False
    expected = {"raised": [("USD", 9, 20500, 11000, 8, 19500, 1, 1000, 2278), *RAISED[1:]]}
    assert figures(PERIOD) == {**EXPECTED, **expected}
    assert rollups.refresh(BUILT_AT) == [FEB]
    assert figures(PERIOD) == {**EXPECTED, **expected}
