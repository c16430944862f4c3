"""Every email renders in English and Russian, as text and HTML, with a subject and no leftovers."""

from __future__ import annotations

from typing import Any

import pytest

from membership.mail.render import UnknownTemplate, render
from membership.mail.templates import BUILDERS, HIDDEN_LINK
from membership.models import OutboxEmail
from membership.money import Money

pytestmark = pytest.mark.usefixtures("app_context")

CONTEXTS: dict[str, dict[str, Any]] = {
    "receipt": {"amount": 2500, "currency": "EUR"},
    "renewal_receipt": {"amount": 1000, "currency": "USD"},
    "payment_failed": {"invoice": "in_123"},
    "card_expiring": {"brand": "visa", "last4": "4242", "exp_month": 3, "exp_year": 2027},
    "cancellation": {
        "state": "scheduled",
        "amount": 1500,
        "currency": "GBP",
        "interval": "month",
        "ends_at": "2026-12-01T00:00:00+00:00",
    },
    "magic_link": {"link": "http://localhost/account/sign-in/tok3n", "minutes": 30},
}
# A phrase of each template's body, per language, to show the right catalog was used.
PHRASES = {
    "en": "support",
    "ru": "поддерж",
}


def email(template: str, locale: str, **context: Any) -> OutboxEmail:
    return OutboxEmail(template=template, locale=locale, context=CONTEXTS[template] | context)


def test_every_template_has_a_context_here() -> None:
    assert set(CONTEXTS) == set(BUILDERS)


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_renders_text_and_html_with_a_subject(app, template: str, locale: str) -> None:
    rendered = render(email(template, locale))
    assert rendered.subject and "\n" not in rendered.subject
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "{{" not in part and "{%" not in part and "}}" not in part
        assert "%(" not in part  # every placeholder filled
    assert PHRASES[locale] in rendered.text.lower() or template == "magic_link"
    assert f'<html lang="{locale}">' in rendered.html
    assert f"<title>{rendered.subject}</title>" in rendered.html
    if locale == "ru":
        english = render(email(template, "en"))
        assert rendered.subject != english.subject
        assert rendered.text != english.text


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize(
    ("template", "money"),
    [
        ("receipt", Money(2500, "EUR")),
        ("renewal_receipt", Money(1000, "USD")),
        ("cancellation", Money(1500, "GBP")),
    ],
)
def test_amounts_are_formatted_for_the_language(app, template, money, locale) -> None:
    rendered = render(email(template, locale))
    assert money.format(locale) in rendered.text
    assert money.format(locale) in rendered.html


def test_zero_decimal_currencies_keep_their_amount(app) -> None:
    rendered = render(email("receipt", "en", amount=1000, currency="JPY"))
    assert "¥1,000" in rendered.text


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        ("en", "Of which €0.56 covers the card fees: thank you."),
        ("ru", "Из них 0,56\xa0€ покрывают комиссию за карту. Спасибо!"),
    ],
)
@pytest.mark.parametrize("template", ["receipt", "renewal_receipt"])
def test_a_receipt_names_the_fee_the_reader_covered(app, template, locale, line) -> None:
    context = {"amount": 1056, "currency": "EUR", "fee_covered": 56}
    rendered = render(email(template, locale, **context))
    assert line in rendered.text and line in rendered.html
    without = render(email(template, locale, amount=1000, currency="EUR"))
    assert "0,56" not in without.text and "0.56" not in without.text


def test_a_card_is_named_by_brand_and_last_four_only(app) -> None:
    rendered = render(email("card_expiring", "en"))
    assert "Visa card ending in 4242" in rendered.text
    assert "03/2027" in rendered.text


def test_the_payment_failed_email_links_to_updating_the_card(app) -> None:
    rendered = render(email("payment_failed", "ru"))
    assert "http://localhost/account" in rendered.text
    assert 'href="http://localhost/account"' in rendered.html


def test_cancellation_scheduled_and_ended_read_differently(app) -> None:
    scheduled = render(email("cancellation", "en"))
    ended = render(email("cancellation", "en", state="canceled", reason="payment_failed"))
    assert "will not renew" in scheduled.text and "December 1, 2026" in scheduled.text
    assert "could not take your payments" in ended.text
    assert scheduled.subject != ended.subject


def test_the_sign_in_link_is_hidden_from_staff_previews(app) -> None:
    link = CONTEXTS["magic_link"]["link"]
    assert link in render(email("magic_link", "en")).text
    preview = render(email("magic_link", "en"), preview=True)
    assert link not in preview.text and link not in preview.html
    assert HIDDEN_LINK in preview.text


def test_html_escapes_what_it_is_given(app) -> None:
    app.config["PUBLICATION_NAME"] = "<b>Gazette</b>"
    rendered = render(email("receipt", "en"))
    assert "<b>Gazette</b>" not in rendered.html
    assert "&lt;b&gt;Gazette&lt;/b&gt;" in rendered.html


def test_an_unknown_template_is_an_error(app) -> None:
    with pytest.raises(UnknownTemplate):
        render(OutboxEmail(template="nonesuch", locale="en", context={}))


def test_an_unknown_locale_falls_back_to_english(app) -> None:
    assert render(email("receipt", "de")).subject == render(email("receipt", "en")).subject
