"""What a members list request costs (statements, cookie writes) and how its rows are shown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import event

from membership.dashboard import auth
from membership.dashboard.members.search import MemberFilters, page
from membership.dashboard.members.services import listed
from membership.extensions import db
from membership.models import DonationStatus
from tests.factories import make_campaign, make_donation, make_member

pytestmark = pytest.mark.usefixtures("app_context")

T0 = datetime(2026, 5, 1, tzinfo=UTC)
# The staff user (every staff request), the campaign choices, the page, and what its rows gave.
PAGE_STATEMENTS = 4


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL run inside the block, as sent."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def givers(count: int) -> None:
    for n in range(count):
        member = make_member(email=f"g{n:02d}@example.org", created_at=T0.replace(minute=n))
        make_donation(member, amount=1000, paid_at=T0)
        make_donation(member, amount=500, currency="JPY", paid_at=T0)


@pytest.mark.parametrize("count", [2, 60])  # a part page and a full one, with a next page
@pytest.mark.parametrize("who", ["viewer_client", "admin_client"])
def test_a_member_list_page_runs_a_fixed_number_of_statements(request, app, who, count):
    client = request.getfixturevalue(who)
    givers(count)
    with statements() as seen:
        html = client.get("/staff/members?q=g").get_data(as_text=True)
    assert html.count('href="/staff/members/') == min(count, 50)
    # No query per row, and nothing written: listing is not a PII view (the member page is).
    assert len(seen) == PAGE_STATEMENTS, seen
    assert all(s.lstrip().upper().startswith("SELECT") for s in seen), seen


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=nobody", PAGE_STATEMENTS - 1),  # no rows, so nothing to ask about their gifts
        ("campaign=spring", PAGE_STATEMENTS + 1),  # the campaign's id, from its slug
    ],
)
def test_member_list_statement_budget_by_filter(viewer_client, app, query, expected):
    givers(3)
    make_donation(make_member(), campaign=make_campaign(slug="spring"), paid_at=T0)
    with statements() as seen:
        assert viewer_client.get(f"/staff/members?{query}").status_code == 200
    assert len(seen) == expected, seen


def test_listed_members_are_masked_for_viewers_with_their_giving_as_text(app):
    alice = make_member(email="alice@example.org", display_name="Alice Adams", created_at=T0)
    make_donation(alice, amount=1000, paid_at=T0.replace(day=3))
    make_donation(alice, amount=5000, currency="JPY", paid_at=T0.replace(day=9))
    make_donation(alice, amount=2000, paid_at=T0.replace(day=20), amount_refunded=500)
    make_donation(alice, amount=9999, paid_at=T0.replace(day=28), status=DonationStatus.FAILED)
    erased = make_member(email=None, created_at=T0.replace(day=2))
    found = page(MemberFilters(), "USD", None).members
    with app.test_request_context("/staff/members"):
        viewer = {row.joined: row for row in listed(found, show_pii=False)}
        admin = {row.joined: row for row in listed(found, show_pii=True)}
        alice_url = url_for("dashboard.member", public_id=alice.public_id)
    shown = viewer["2026-05-01"]
    assert (shown.email, shown.name, shown.url) == ("a***@e***.org", "A•••", alice_url)
    # Kept (less refunds) per currency, in currency order; the failed gift counts for nothing.
    assert (shown.given, shown.last_gift) == ("¥5,000, $25.00", "2026-05-20")
    assert (admin["2026-05-01"].email, admin["2026-05-01"].name) == (alice.email, "Alice Adams")
    for rows in (viewer, admin):
        assert (rows["2026-05-02"].email, rows["2026-05-02"].given) == ("(erased)", "")
    assert viewer["2026-05-02"].url.endswith(f"/staff/members/{erased.public_id}")


def test_staff_links_follow_the_mount_point(viewer_client, app):
    givers(1)
    plain = viewer_client.get("/staff/members").get_data(as_text=True)
    mounted = viewer_client.get(
        "/staff/members", environ_overrides={"SCRIPT_NAME": "/news"}
    ).get_data(as_text=True)
    assert 'href="/staff/campaigns"' in plain and "/news/" not in plain
    assert 'href="/news/staff/campaigns"' in mounted
    assert 'href="/news/staff/members/' in mounted


def session_cookie_set(response) -> bool:
    return any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie"))


def test_member_list_requests_leave_a_fresh_session_cookie_alone(viewer_client, app):
    viewer_client.get("/staff/members")  # the first page also stores the CSRF token
    with viewer_client.session_transaction() as session:
        session[auth.SEEN_AT] = int(time.time()) - auth.SEEN_AT_STEP // 2
    assert not session_cookie_set(viewer_client.get("/staff/members"))
    stale = int(time.time()) - auth.SEEN_AT_STEP - 1
    with viewer_client.session_transaction() as session:
        session[auth.SEEN_AT] = stale
    assert session_cookie_set(viewer_client.get("/staff/members"))
    with viewer_client.session_transaction() as session:
        assert session[auth.SEEN_AT] > stale


@pytest.mark.postgres_only
@pytest.mark.parametrize("query", ["ana", "zzqx"])  # a common piece of names, and none at all
def test_search_by_part_of_a_name_reads_the_trigram_index(viewer_client, app, backend, query):
    """On PostgreSQL a name search can read an index (migration 0007), not every member: with
    full scans priced out, the page's query plans the trigram index. Which plan PostgreSQL
    picks depends on its statistics: for a common piece of a name at 200k members, reading
    the newest members first and stopping at 50 is cheaper."""
    if backend != "postgresql":
        pytest.skip("the query plans are PostgreSQL's")
    givers(3)
    searches: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "lower(member.display_name) LIKE" in statement:
            searches.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert viewer_client.get(f"/staff/members?q={query}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert searches
    connection = db.session.connection()
    # Priced out: reading every member, in table order or in an index's order. What remains
    # is a bitmap scan, which needs an index that matches a name's middle.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
    for statement, parameters in searches:
        explained = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in explained)
        assert "ix_member_display_name_trgm" in plan, plan
        assert "Seq Scan on member" not in plan, plan


def test_members_pages_spell_cancelled_and_count_gifts_in_the_staff_language(app, admin_client):
    """Stripe's "canceled" is shown as the service spells it; a member's gifts are counted
    with the plural the number takes, in English and Russian (one, few, many)."""
    from membership.models import MemberStatus, SubscriptionStatus
    from tests.factories import make_recurring

    member = make_member(created_at=T0, status=MemberStatus.CANCELED)
    make_recurring(member, status=SubscriptionStatus.CANCELED, canceled_at=T0)
    make_donation(member, amount=1000, paid_at=T0)
    for amount in (100, 200, 300, 400, 500):
        make_donation(member, amount=amount, currency="EUR", paid_at=T0)
    listed_page = admin_client.get("/staff/members").get_data(as_text=True)
    detail = f"/staff/members/{member.public_id}"
    english = admin_client.get(detail).get_data(as_text=True)
    russian = admin_client.get(f"{detail}?lang=ru").get_data(as_text=True)
    assert ">cancelled</option>" in listed_page and "<td>cancelled</td>" in listed_page
    assert 'value="canceled"' in listed_page  # the filter still asks for Stripe's value
    assert "<dd>cancelled" in english and "<td>cancelled" in english
    assert ">canceled<" not in listed_page + english
    assert "€15.00 in 5 gifts; $10.00 in 1 gift</dd>" in english
    assert "€15.00 в 5 пожертвованиях; $10.00 в 1 пожертвовании</dd>" in russian
