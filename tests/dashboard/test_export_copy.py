"""The two export paths: PostgreSQL's COPY and the portable Python one write the same bytes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from babel import Locale
from werkzeug.test import EnvironBuilder

from membership.dashboard.members import export_copy, exports
from membership.dashboard.members.export_copy import UNUSUAL_EXPONENTS, USUAL_EXPONENT
from membership.extensions import db
from membership.models import AuditEntry, DonationKind, DonationStatus, MemberStatus
from membership.money import exponent
from tests.factories import make_campaign, make_donation, make_member

pytestmark = pytest.mark.usefixtures("app_context")

NASTY = [
    "=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'already quoted",
    'say "hi", then leave', "line\nbreak", "crlf\r\nend", "trailing,", " spaced ", "\\.",
    "back\\slash", "ünïcödé — 日本語 🎉", "O'B%_ with LIKE wildcards", "",
]  # fmt: skip


def at(day: int, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, 9, 30, 15, micro, tzinfo=UTC)


@pytest.fixture
def nasty(app):
    """Rows whose every text cell is something a CSV writer or a spreadsheet can get wrong."""
    odd = make_campaign(slug="o'brien%_", name="Quotes")
    formula = make_campaign(slug="@campaign", name="Formula")
    members = [
        make_member(email=f"n{i}@example.org", display_name=text, tier=text or None,
                    locale=text[:10], public_id=f"{text[:20]}{i}", newsletter_consent=i % 2 == 0,
                    status=MemberStatus.LAPSED if i % 3 else MemberStatus.ACTIVE,
                    created_at=at(1, i * 500), active_until=None if i % 2 else at(2))
        for i, text in enumerate(NASTY)
    ]  # fmt: skip
    make_member(email=None, display_name=None, erased_at=at(3, 1))  # an erased member
    gifts = [  # (amount, currency, refunded, fee, net, settlement currency)
        (2550, "USD", 0, 104, 2446, "USD"),
        (500, "JPY", 0, None, None, None),  # zero-decimal, fee not known yet
        (1234, "BHD", 1234, 31, 1203, ""),  # three-decimal, refunded; blank settlement
        (700, "KWD", 100, 5, -150, "bhd"),  # a dispute fee leaves the net negative
        (1000, "JPY", 0, 45, 955, "USD"),  # settled in another currency
        (1, "EUR", 0, 0, 1, "EUR"),
        (99, "=AB", 0, -3, 102, "=AB"),  # the schema allows any upper-case three characters
    ]
    for i, (amount, currency, refunded, fee, net, settled) in enumerate(gifts * 3):
        text = NASTY[i % len(NASTY)]
        make_donation(members[i % len(members)], amount=amount, currency=currency,
                      amount_refunded=refunded, fee=fee, net=net, settlement_currency=settled,
                      status=DonationStatus.REFUNDED if refunded else DonationStatus.SUCCEEDED,
                      kind=DonationKind.RECURRING if i % 2 else DonationKind.ONE_OFF,
                      paid_at=at(1 + i % 4, (i % 3) * 250_000), article_url=text or None,
                      utm_source=text, utm_medium=NASTY[-1 - i % len(NASTY)], utm_campaign=None,
                      campaign=[None, odd, formula][i % 3])  # fmt: skip


def body(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.response)


def rows(raw: bytes) -> list[list[str]]:
    """The data rows, header left out (cells may hold line breaks, so lines are no guide)."""
    return list(csv.reader(io.StringIO(raw.decode(), newline="")))[1:]


def both_ways(client, monkeypatch, url: str) -> tuple[bytes, bytes]:
    """The same export through COPY (checked to be taken) and through the Python path."""
    copies = []

    def copy_csv(*args):
        copies.append(args)
        return export_copy.copy_csv(*args)

    with monkeypatch.context() as patched:
        patched.setattr(exports, "copy_csv", copy_csv)
        copied = body(client.get(url))
    assert len(copies) == 1
    with monkeypatch.context() as patched:
        patched.setattr(exports, "copy_supported", lambda: False)
        written = body(client.get(url))
    return copied, written


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("COPY is PostgreSQL's; SQLite always takes the Python path")


URLS = [  # (url, rows it finds)
    ("/staff/exports/donations.csv", 21),
    ("/staff/exports/donations.csv?from=2026-03-02&to=2026-03-03", 10),
    ("/staff/exports/donations.csv?currency=jpy&kind=recurring", 3),
    ("/staff/exports/donations.csv?campaign=o'brien%25_", 7),
    ("/staff/exports/donations.csv?campaign=%40campaign&status=refunded", 2),
    ("/staff/exports/donations.csv?campaign=x'%3B%20DROP%20TABLE%20donation%3B%20--", 0),
    ("/staff/exports/members.csv", len(NASTY) + 1),
    ("/staff/exports/members.csv?status=lapsed&sort=total", 11),
    ("/staff/exports/members.csv?q=o'b%25_", 1),
    ("/staff/exports/members.csv?campaign=o'brien%25_&currency=bhd", 2),
]


@pytest.mark.parametrize(("url", "found"), URLS)
def test_copy_and_python_paths_write_identical_bytes(
    postgres_only, admin_client, nasty, monkeypatch, url, found
):
    copied, written = both_ways(admin_client, monkeypatch, url)
    assert copied == written
    assert len(rows(copied)) == found


def test_nasty_cells_read_back_as_stored_and_neutralised(admin_client, nasty):
    """On each backend, whichever path it takes."""
    raw = body(admin_client.get("/staff/exports/donations.csv"))
    found = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    assert len(found) == len(rows(raw)) == 21
    assert found[0]["paid_at"] == "2026-03-01T09:30:15+00:00"
    assert {r["paid_at"][19:] for r in found} == {"+00:00", ".250000+00:00", ".500000+00:00"}
    money = {(r["amount"], r["currency"], r["amount_refunded"], r["fee"], r["net"],
              r["settlement_currency"]) for r in found}  # fmt: skip
    assert money == {
        ("25.50", "USD", "0.00", "1.04", "24.46", "USD"),
        ("500", "JPY", "0", "", "", ""),
        ("1.234", "BHD", "1.234", "0.031", "1.203", "BHD"),
        ("0.700", "KWD", "0.100", "0.005", "'-0.150", "bhd"),
        ("1000", "JPY", "0", "0.45", "9.55", "USD"),
        ("0.01", "EUR", "0.00", "0.00", "0.01", "EUR"),
        ("0.99", "'=AB", "0.00", "'-0.03", "1.02", "'=AB"),
    }
    neutralised = {text: "'" + text if text[:1] in "=+-@\t\r" and text else text for text in NASTY}
    assert {r["utm_source"] for r in found} == set(neutralised.values())
    assert {r["campaign"] for r in found} == {"", "o'brien%_", "'@campaign"}


def test_filters_are_bound_not_spliced(admin_client, nasty):
    quoted = body(admin_client.get("/staff/exports/donations.csv?campaign=o'brien%25_"))
    assert len(rows(quoted)) == 7
    injected = "/staff/exports/donations.csv?campaign=x'%3B%20DROP%20TABLE%20donation%3B%20--"
    assert rows(body(admin_client.get(injected))) == []
    assert db.session.scalar(sa.text("SELECT count(*) FROM donation")) == 21


def test_audit_is_committed_before_the_first_byte(admin_client, nasty):
    response = admin_client.get("/staff/exports/donations.csv?currency=usd")
    with db.engine.connect() as elsewhere:  # another connection sees only committed rows
        actions = elsewhere.scalars(sa.select(AuditEntry.action)).all()
    assert "export.donations" in actions
    assert len(rows(body(response))) == 3


@pytest.mark.parametrize("name", ["donations", "members"])
def test_the_query_runs_when_the_body_is_read(app, admin_client, nasty, name):
    """Not in the view, nor in an after_request hook that measures the body: either would read
    the whole file into memory before sending a byte (254 MB for a million gifts)."""
    # Called as a WSGI server calls it: the test client would read the first chunk itself.
    cookie = admin_client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    url = f"/staff/exports/{name}.csv"
    environ = EnvironBuilder(url, headers={"Cookie": f"{cookie.key}={cookie.value}"}).get_environ()
    statuses = []
    unread = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    assert statuses == ["200 OK"]
    make_donation(make_member(email="late@example.org"))  # committed once the view returned
    try:
        raw = b"".join(unread)
    finally:
        unread.close()
    assert len(rows(raw)) == {"donations": 22, "members": len(NASTY) + 2}[name]


def test_copy_streams_whole_rows_in_chunks(postgres_only, admin_client, nasty, monkeypatch):
    monkeypatch.setattr(export_copy, "CHUNK_BYTES", 256)
    chunks = list(admin_client.get("/staff/exports/donations.csv").response)
    assert chunks[0].startswith(b"donation_id,member,paid_at,") and chunks[0].count(b"\r\n") == 1
    assert len(chunks) > 5
    one_by_one = [row for chunk in chunks[1:] for row in rows(chunks[0] + chunk)]
    assert one_by_one == rows(b"".join(chunks))  # a row is never cut between two writes


def test_a_copy_left_half_read_is_cancelled_cleanly(
    postgres_only, admin_client, nasty, monkeypatch
):
    monkeypatch.setattr(export_copy, "CHUNK_BYTES", 64)
    response = admin_client.get("/staff/exports/donations.csv")
    chunks = iter(response.response)
    next(chunks), next(chunks)
    response.close()  # the reader went away
    assert len(rows(body(admin_client.get("/staff/exports/donations.csv")))) == 21


def test_copy_writes_utf8_whatever_the_connection_encoding(postgres_only, admin_client, nasty):
    expected = body(admin_client.get("/staff/exports/donations.csv"))
    engine = db.engine
    engine.dispose()  # the export's connection is then the one set to LATIN1 below
    with engine.connect() as conn:
        conn.exec_driver_sql("SET client_encoding TO 'LATIN1'")
        conn.commit()
    try:
        assert body(admin_client.get("/staff/exports/donations.csv")) == expected
    finally:
        engine.dispose()


def test_sql_amounts_use_moneys_exponents():
    """major_cell() lists the unusual exponents; every other code must have the usual one."""
    in_sql = {code: places for places, codes in UNUSUAL_EXPONENTS.items() for code in codes}
    for code in Locale.parse("en").currencies:  # every ISO 4217 code Babel knows
        assert exponent(code) == in_sql.get(code, USUAL_EXPONENT), code
