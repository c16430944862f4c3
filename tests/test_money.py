"""Money: integer minor units, exact parsing, Stripe's zero-decimal currencies, Babel formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from membership.money import Money, MoneyError, exponent

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (1000, "USD", "en", "$10.00"),
        (123456, "EUR", "en", "€1,234.56"),
        (5000, "GBP", "en", "£50.00"),
        (1000, "JPY", "en", "¥1,000"),
        (50000, "KRW", "en", "₩50,000"),
        (1000, "USD", "ru", f"10,00{NBSP}$"),
        (123456, "EUR", "ru", f"1{NBSP}234,56{NBSP}€"),
        (1000, "JPY", "ru", f"1{NBSP}000{NBSP}¥"),
        (1500, "KWD", "en", "KWD1.500"),
    ],
)
def test_format_is_locale_aware_and_knows_minor_units(amount, currency, locale, expected):
    assert Money(amount, currency).format(locale) == expected


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("10", "USD", 1000),
        ("10.5", "USD", 1050),
        (" 10.50 ", "EUR", 1050),
        ("1000", "JPY", 1000),
        ("0.005", "KWD", 5),
        (Decimal("19.99"), "GBP", 1999),
        (25, "USD", 2500),
    ],
)
def test_from_major_is_exact(text, currency, minor):
    assert Money.from_major(text, currency).amount == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("10.001", "USD", "at most 2 decimal places"),
        ("1000.5", "JPY", "at most 0 decimal places"),
        ("ten", "USD", "Not an amount"),
        ("NaN", "USD", "Not an amount"),
        ("Infinity", "EUR", "Not an amount"),
        ("10", "XXY", "Unknown currency"),
        ("10", "US", "Not a currency code"),
    ],
)
def test_from_major_refuses_what_is_not_money(text, currency, message):
    with pytest.raises(MoneyError, match=message):
        Money.from_major(text, currency)


def test_floats_are_never_money():
    with pytest.raises(MoneyError, match="float"):
        Money.from_major(10.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="whole minor units"):
        Money(10.0, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(True, "USD")  # type: ignore[arg-type]


def test_zero_decimal_and_three_decimal_exponents_follow_stripe():
    assert [exponent(c) for c in ("JPY", "krw", "USD", "EUR", "KWD", "ISK")] == [0, 0, 2, 2, 3, 2]
    assert Money(1000, "JPY").major == Decimal("1000")
    assert Money(1000, "USD").major == Decimal("10.00")


def test_currency_codes_are_normalised_to_upper_case():
    assert Money(100, "eur") == Money(100, "EUR")


def test_arithmetic_and_ordering_stay_within_one_currency():
    assert Money(1000, "USD") + Money(250, "USD") == Money(1250, "USD")
    assert Money(1000, "USD") - Money(250, "USD") == Money(750, "USD")
    assert Money(100, "USD") < Money(200, "USD") <= Money(200, "USD")
    with pytest.raises(MoneyError, match="Cannot combine USD with EUR"):
        Money(1000, "USD") + Money(1000, "EUR")
    with pytest.raises(MoneyError):
        _ = Money(1000, "USD") < Money(1000, "JPY")
    with pytest.raises(TypeError):
        Money(1000, "USD") + 5
