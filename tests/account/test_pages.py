"""The donor's account page, receipts (their own only) and annual statements."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from membership.models import DonationKind, DonationStatus, Interval
from tests.account.conftest import sign_in
from tests.factories import make_donation, make_member, make_recurring

pytestmark = pytest.mark.usefixtures("app_context")

PERIOD_END = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def giver(client):
    member = make_member(locale="en")
    make_donation(member, amount=2500, currency="USD", paid_at=datetime(2025, 3, 4, tzinfo=UTC))
    make_donation(
        member,
        amount=5000,
        currency="EUR",
        paid_at=datetime(2025, 7, 1, tzinfo=UTC),
        status=DonationStatus.REFUNDED,
        amount_refunded=5000,
    )
    make_donation(member, amount=1500, currency="JPY", paid_at=datetime(2026, 1, 2, tzinfo=UTC))
    recurring = make_recurring(
        member, amount=1000, currency="USD", interval=Interval.MONTH, current_period_end=PERIOD_END
    )
    make_donation(
        member,
        amount=1000,
        kind=DonationKind.RECURRING,
        recurring_donation=recurring,
        paid_at=datetime(2025, 12, 1, tzinfo=UTC),
    )
    sign_in(client, member)
    return member


def test_the_account_page_lists_every_gift_and_the_recurring_one(client, giver):
    page = client.get("/account/home").text
    for expected in ("$25.00", "€50.00", "¥1,500", "Refunded", "Paid", "EUR", "JPY"):
        assert expected in page
    assert "$10.00 every month" in page
    assert "Next charge on Dec 1, 2026" in page
    assert "Giving statement 2025" in page and "Giving statement 2026" in page


def test_the_account_page_shows_pause_and_cancellation_states(client, giver):
    recurring = giver.recurring_donations[0]
    recurring.paused_until = datetime(2027, 2, 1, tzinfo=UTC)
    from membership.extensions import db

    db.session.commit()
    assert "Paused until Feb 1, 2027" in client.get("/account/home").text
    recurring.paused_until = None
    recurring.cancel_at_period_end = True
    db.session.commit()
    assert "Ends on Dec 1, 2026" in client.get("/account/home").text


def test_russian_dates_end_a_sentence_with_one_full_stop(client, giver):
    """Babel's Russian dates end in a full stop (the year's abbreviation): no sentence adds
    a second one after it."""
    from babel.dates import format_date

    from membership.extensions import db

    next_charge = format_date(PERIOD_END, "medium", locale="ru")
    assert next_charge.endswith(".")
    page = client.get("/account/home?lang=ru").text
    assert f"Следующее списание — {next_charge}</p>" in page
    recurring = giver.recurring_donations[0]
    recurring.paused_until = datetime(2027, 2, 1, tzinfo=UTC)
    db.session.commit()
    paused = format_date(recurring.paused_until, "medium", locale="ru")
    for path in ("/account/home", f"/account/gifts/{recurring.id}"):
        page = client.get(f"{path}?lang=ru").text
        assert f"Приостановлено до {paused};" in page
        assert f"{paused}." not in page and f"{next_charge}." not in page


def test_amounts_follow_the_readers_language(client, giver):
    page = client.get("/account/home?lang=ru").text
    assert "25,00\xa0$" in page and "Возврат" in page


def test_receipts_are_only_for_the_donors_own_gifts(app, client, giver):
    own = giver.donations[0]
    stranger = make_donation(make_member(), amount=7700)
    receipt = client.get(f"/account/receipts/{own.id}")
    assert receipt.status_code == 200 and "$25.00" in receipt.text
    assert client.get(f"/account/receipts/{stranger.id}").status_code == 404
    assert client.get("/account/receipts/999999").status_code == 404
    signed_out = app.test_client()
    response = signed_out.get(f"/account/receipts/{own.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/")


def test_the_annual_statement_totals_kept_gifts_per_currency(client, giver):
    page = client.get("/account/statements/2025").text
    assert "$35.00" in page  # 25 one-off + 10 recurring; the refunded 50 EUR is left out
    assert "€50.00" not in page
    assert '<body class="account-page">' in page  # site.css prints it without forms and header
    assert "No gifts recorded in 2024" in client.get("/account/statements/2024").text
    assert client.get("/account/statements/1999").status_code == 404
