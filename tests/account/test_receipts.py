"""Receipts name the organisation as configured, leave out what is not, and print cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from membership.mail.render import render
from membership.models import OutboxEmail
from tests.account.conftest import sign_in
from tests.factories import make_donation, make_member

ORGANISATION = {
    "ORG_NAME": "Gazette Media Foundation",
    "ORG_ADDRESS": "12 Press Lane; Springfield 12345",
    "ORG_TAX_ID": "EIN 12-3456789",
    "RECEIPT_TAX_NOTE": "No goods or services were given in return for this gift.",
    "RECEIPT_TAX_NOTE_RU": "Взамен пожертвования не предоставлялось товаров или услуг.",
}
GIFT = {"amount": 2500, "currency": "EUR"}
SITE_CSS = Path(__file__).parents[2] / "static" / "css" / "site.css"


def receipt_page(app, lang: str = "en") -> str:
    client = app.test_client()
    with app.app_context():
        member = make_member(locale="en")
        donation = make_donation(member, amount=2500, currency="USD")
        sign_in(client, member)
        page = client.get(f"/account/receipts/{donation.id}?lang={lang}")
    assert page.status_code == 200
    return page.text


def test_the_receipt_names_the_configured_organisation(make_app):
    page = receipt_page(make_app(**ORGANISATION))
    assert '<p class="receipt-issuer-name">Gazette Media Foundation</p>' in page
    assert "<address>12 Press Lane<br>Springfield 12345</address>" in page
    assert "Tax ID: EIN 12-3456789" in page
    assert "No goods or services were given in return for this gift." in page
    assert '<body class="account-page">' in page


def test_the_receipt_in_russian_has_the_russian_tax_note(make_app):
    page = receipt_page(make_app(**ORGANISATION), lang="ru")
    assert "Налоговый номер: EIN 12-3456789" in page
    assert ORGANISATION["RECEIPT_TAX_NOTE_RU"] in page
    assert ORGANISATION["RECEIPT_TAX_NOTE"] not in page


def test_without_a_russian_note_the_english_one_stands_in(make_app):
    page = receipt_page(make_app(**ORGANISATION | {"RECEIPT_TAX_NOTE_RU": None}), lang="ru")
    assert ORGANISATION["RECEIPT_TAX_NOTE"] in page


def test_unset_details_are_left_off_the_receipt(make_app):
    page = receipt_page(make_app())
    assert '<p class="receipt-issuer-name">The Test Gazette</p>' in page, "PUBLICATION_NAME"
    assert "<address>" not in page and "Tax ID" not in page
    assert 'class="receipt-tax-note"' not in page


@pytest.mark.parametrize("template", ["receipt", "renewal_receipt"])
def test_receipt_emails_name_the_organisation(make_app, template):
    with make_app(**ORGANISATION).app_context():
        email = OutboxEmail(template=template, locale="ru", context=GIFT)
        rendered = render(email)
    for part in (rendered.text, rendered.html):
        assert "Gazette Media Foundation" in part and "Springfield 12345" in part
        assert "Налоговый номер: EIN 12-3456789" in part
        assert ORGANISATION["RECEIPT_TAX_NOTE_RU"] in part


def test_receipt_emails_leave_unset_details_off(make_app):
    with make_app().app_context():
        email = OutboxEmail(template="receipt", locale="en", context=GIFT)
        rendered = render(email)
    assert "Tax ID" not in rendered.text and "Tax ID" not in rendered.html


def test_the_print_stylesheet_leaves_out_navigation_and_buttons():
    css = SITE_CSS.read_text()
    _, _, printed = css.partition("@media print {")
    rules = printed.split("}")[0]
    for hidden in (".site-header", ".demo-notice", "nav", "form", ".button", "button", ".no-print"):
        assert f".account-page {hidden}" in rules
