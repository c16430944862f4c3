"""CSV exports: admins only, audit-logged, streamed, filtered, exact amounts, formula-safe."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from membership.dashboard.members.export_csv import cell
from membership.extensions import db
from membership.models import AuditEntry, DonationKind, DonationStatus, MemberStatus
from tests.factories import make_campaign, make_donation, make_member

pytestmark = pytest.mark.usefixtures("app_context")


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.fixture
def rows(app):
    spring = make_campaign(slug="spring", name="Spring")
    eve = make_member(email="eve@example.org", display_name="=HYPERLINK(\"http://x\")",
                      status=MemberStatus.LAPSED)  # fmt: skip
    fay = make_member(email="fay@example.org", display_name="Fay", status=MemberStatus.ACTIVE)
    make_donation(eve, amount=2550, paid_at=at(1, 10), fee=104, net=2446,
                  settlement_currency="USD", utm_source="+SUM(1)", campaign=spring)  # fmt: skip
    make_donation(fay, amount=500, currency="JPY", paid_at=at(2, 1), utm_source="@cmd",
                  kind=DonationKind.RECURRING)  # fmt: skip
    make_donation(fay, amount=1000, currency="EUR", paid_at=at(3, 1), utm_source="-1+2",
                  status=DonationStatus.REFUNDED, amount_refunded=1000)  # fmt: skip
    return {"eve": eve, "fay": fay}


def parsed(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_members_export_is_streamed_filtered_and_audited(admin_client, admin, rows):
    response = admin_client.get("/staff/exports/members.csv?status=lapsed", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="members-')
    assert response.headers["Cache-Control"] == "no-store"
    [eve] = parsed(response)
    assert eve["email"] == "eve@example.org" and eve["status"] == "lapsed"
    assert eve["display_name"] == '\'=HYPERLINK("http://x")'  # not a formula any more
    [entry] = audit("export.members")
    assert entry.detail == {"filters": {"status": "lapsed", "sort": "created"}}
    assert entry.staff_user_id == admin.id


def test_donations_export_has_exact_amounts_and_neutralised_cells(admin_client, rows):
    found = parsed(admin_client.get("/staff/exports/donations.csv"))
    assert [(r["amount"], r["currency"]) for r in found] == [
        ("25.50", "USD"),
        ("500", "JPY"),  # zero-decimal: yen, no cents
        ("10.00", "EUR"),
    ]
    first = found[0]
    assert (first["fee"], first["net"], first["settlement_currency"]) == ("1.04", "24.46", "USD")
    assert first["campaign"] == "spring" and first["member"] == rows["eve"].public_id
    assert [r["utm_source"] for r in found] == ["'+SUM(1)", "'@cmd", "'-1+2"]
    assert found[2]["amount_refunded"] == "10.00" and found[2]["status"] == "refunded"
    assert len(audit("export.donations")) == 1


@pytest.mark.parametrize(
    ("query", "currencies"),
    [
        ("from=2026-02-01", ["JPY", "EUR"]),
        ("from=2026-01-01&to=2026-02-01", ["USD", "JPY"]),
        ("currency=eur", ["EUR"]),
        ("campaign=spring", ["USD"]),
        ("status=refunded", ["EUR"]),
        ("kind=recurring", ["JPY"]),
    ],
)
def test_donations_export_filters(admin_client, rows, query, currencies):
    response = admin_client.get(f"/staff/exports/donations.csv?{query}")
    assert [r["currency"] for r in parsed(response)] == currencies
    [entry] = audit("export.donations")
    assert entry.detail is not None and set(entry.detail["filters"]) <= {
        "from", "to", "currency", "campaign", "status", "kind",
    }  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "/staff/exports/donations.csv?from=2026-13-01",
        "/staff/exports/donations.csv?status=lost",
        "/staff/exports/members.csv?status=gold",
    ],
)
def test_bad_filters_are_refused_before_anything_is_logged(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 400 and "form-error" in response.get_data(as_text=True)
    assert audit("export.members") == audit("export.donations") == []


@pytest.mark.parametrize("name", ["members", "donations"])
def test_exports_are_for_admins_only(viewer_client, client, name):
    assert viewer_client.get(f"/staff/exports/{name}.csv").status_code == 403
    assert client.get(f"/staff/exports/{name}.csv").status_code == 302
    assert audit(f"export.{name}") == []


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (None, ""),
        (True, "yes"),
    ],
)
def test_cell_neutralises_formulas(value, written):
    assert cell(value) == written
