"""Staff see how many readers covered the card fees and what they added, rolled up or not."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from membership.dashboard.metrics import gift_totals, periods, rollups
from membership.extensions import db
from membership.models import DonationStatus, RollupMonth
from membership.money import Money
from tests.factories import make_donation, make_member

pytestmark = pytest.mark.usefixtures("app_context")

NOW = datetime.now(UTC)
EARLIER = NOW - timedelta(days=70)  # a closed month, which the rollup serves once built
FIRST = rollups.month_start(EARLIER)  # periods from here read that month whole, as rolled up


@pytest.fixture
def gifts(app):
    member = make_member()
    for paid_at in (EARLIER, NOW):
        make_donation(member, amount=1061, fee_covered=61, paid_at=paid_at)
        make_donation(member, amount=1000, paid_at=paid_at)
    make_donation(member, amount=2106, fee_covered=106, paid_at=NOW)
    make_donation(member, amount=1056, currency="EUR", fee_covered=56, paid_at=EARLIER)
    make_donation(member, amount=5000, currency="GBP", paid_at=NOW)  # none covered in GBP
    # A refunded gift still counts, as it does in the gross; a failed one never existed.
    make_donation(
        member, amount=530, fee_covered=30, paid_at=NOW, status=DonationStatus.REFUNDED,
        amount_refunded=530,
    )  # fmt: skip


def covered_table(html: str) -> list[list[str]]:
    section = html.split("Card fees covered by readers", 1)[1].split("</table>", 1)[0]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", section)]
    return [row for row in rows if row]  # the header's cells are <th>


def period() -> periods.Period:
    return periods.Period(FIRST, NOW.date())


def test_the_overview_counts_the_gifts_that_covered_the_fees(admin_client, gifts):
    url = f"/staff/?from={FIRST.isoformat()}&to={NOW.date().isoformat()}"
    raw = covered_table(admin_client.get(url).text)
    assert raw == [
        ["EUR", "1", "100%", "€0.56"],
        ["USD", "4", "67%", "$2.58"],  # 4 of 6 US dollar gifts; 0.61 + 0.61 + 1.06 + 0.30
    ]
    assert rollups.refresh(NOW) != [], "the earlier month is closed and now rolled up"
    assert db.session.get(RollupMonth, FIRST).fresh
    assert FIRST in rollups.coverage(period().start, period().end).months
    assert covered_table(admin_client.get(url).text) == raw, "the rollup keeps the same figures"


def test_the_figures_come_from_one_grouped_read(app, gifts):
    rollups.refresh(NOW)
    found = gift_totals.summarise_covered(gift_totals.gift_groups(period()))
    assert [(f.currency, f.gifts, f.covered_gifts, f.covered) for f in found] == [
        ("EUR", 1, 1, Money(56, "EUR")),
        ("USD", 6, 4, Money(258, "USD")),
    ]


def test_no_table_when_no_one_covered_the_fees(admin_client, app):
    make_donation(make_member(), amount=1000, paid_at=NOW)
    assert "Card fees covered by readers" not in admin_client.get("/staff/").text


def test_the_donations_export_has_the_covered_fee(admin_client, gifts):
    response = admin_client.get("/staff/exports/donations.csv?currency=EUR")
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert (row["amount"], row["fee_covered"], row["currency"]) == ("10.56", "0.56", "EUR")
    header = response.get_data(as_text=True).splitlines()[0].split(",")
    assert header.index("fee_covered") == header.index("amount_refunded") + 1


def test_the_member_page_says_what_part_of_a_gift_was_for_the_fees(viewer_client, app):
    member = make_member()
    make_donation(member, amount=1061, fee_covered=61, paid_at=NOW)
    make_donation(member, amount=1000, paid_at=NOW - timedelta(days=1))
    html = viewer_client.get(f"/staff/members/{member.public_id}").text
    assert "$10.61 one-off gift, succeeded (of which $0.61 for the fees)" in html
    assert "$10.00 one-off gift, succeeded</li>" in html
