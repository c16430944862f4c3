"""Money's shortcuts around Babel (known codes read once, formatted text kept) change no answer."""

from __future__ import annotations

import itertools
import string
from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_currency_name

from membership.money import KNOWN_CURRENCIES, Money, MoneyError


def test_known_currencies_are_the_codes_babel_names():
    for letters in itertools.product(string.ascii_uppercase, repeat=3):
        code = "".join(letters)
        assert (code in KNOWN_CURRENCIES) == (get_currency_name(code, locale="en") != code), code


@pytest.mark.parametrize("code", ["XXY", "ÄÖÜ", "usd "])
def test_unknown_or_malformed_codes_are_still_refused(code):
    with pytest.raises(MoneyError):
        Money(100, code)


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("currency", ["USD", "EUR", "GBP", "JPY", "KRW", "KWD", "ISK", "CHF"])
@pytest.mark.parametrize("amount", [0, 1, 5, 99, 100, 1050, 123456, 100000000, -2500])
def test_format_is_what_babel_says(amount, currency, locale):
    exponent = {"JPY": 0, "KRW": 0, "KWD": 3}.get(currency, 2)
    expected = format_currency(Decimal(amount).scaleb(-exponent), currency, locale=locale)
    # Twice: the first answer is Babel's, the second the kept one.
    assert Money(amount, currency).format(locale) == expected
    assert Money(amount, currency).format(locale) == expected


@pytest.mark.parametrize(
    ("major", "currency", "locale", "text"),
    [
        ("10", "USD", "en", "$10"),
        ("10.50", "USD", "en", "$10.50"),
        ("10", "USD", "ru", "10\xa0$"),
        ("10000", "JPY", "ru", "10\xa0000\xa0¥"),
        ("1000", "EUR", "en", "€1,000"),
    ],
)
def test_a_whole_amount_is_written_without_its_cents(major, currency, locale, text):
    assert Money.from_major(major, currency).format_whole(locale) == text
