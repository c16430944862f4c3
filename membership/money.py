"""Money as integer minor units plus an ISO 4217 code; never a float."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from babel import Locale
from babel.numbers import NumberPattern, format_currency, parse_pattern

# Stripe's own minor-unit rules, which differ from ISO 4217 in places (ISK, HUF, TWD):
# https://docs.stripe.com/currencies#zero-decimal and #three-decimal
ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
# The codes Babel has an English name for (get_currency_name echoes any other code back), read
# once: each lookup through Babel's locale data takes microseconds, and every Money makes one.
KNOWN_CURRENCIES = frozenset(
    code for code, name in Locale.parse("en").currencies.items() if name != code
)


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


def exponent(currency: str) -> int:
    """Digits after the decimal point in Stripe's minor units for this currency."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def check_currency(currency: str) -> str:
    """The upper-cased code, if it is a real ISO 4217 currency."""
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise MoneyError(f"Not a currency code: {currency!r}")
    code = currency.upper()
    if code not in KNOWN_CURRENCIES:
        raise MoneyError(f"Unknown currency: {code}")
    return code


parsed_locale = cache(Locale.parse)  # a handful of locales, parsed once each


# Babel parses the locale and walks its pattern on every call (tens of microseconds; a list page
# formats a hundred amounts). The text depends on these three values only, so it is kept.
@lru_cache(maxsize=4096)
def formatted(amount: int, currency: str, locale: str) -> str:
    major = Decimal(amount).scaleb(-exponent(currency))
    return format_currency(major, currency, locale=parsed_locale(locale))


@cache
def whole_pattern(locale: str) -> NumberPattern:
    """The locale's own currency pattern ("¤#,##0.00", "#,##0.00 ¤") without its decimals."""
    pattern = copy.copy(parse_pattern(parsed_locale(locale).currency_formats["standard"]))
    pattern.frac_prec = (0, 0)
    return pattern


@lru_cache(maxsize=4096)
def formatted_whole(amount: int, currency: str, locale: str) -> str:
    whole, rest = divmod(amount, 10 ** exponent(currency))
    if rest:
        return formatted(amount, currency, locale)
    return whole_pattern(locale).apply(
        Decimal(whole), parsed_locale(locale), currency=currency, currency_digits=False
    )


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in minor units (cents, pence, yen) of one currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(
                f"Money amounts are whole minor units, not {type(self.amount).__name__}"
            )
        object.__setattr__(self, "currency", check_currency(self.currency))

    @classmethod
    def from_major(cls, value: Decimal | str | int, currency: str) -> Money:
        """Parse "10", "10.5" or Decimal("10.50") in major units; refuse sub-minor precision."""
        if isinstance(value, float):
            raise MoneyError("Refusing a float; pass a string or Decimal")
        try:
            major = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise MoneyError(f"Not an amount: {value!r}") from exc
        if not major.is_finite():
            raise MoneyError(f"Not an amount: {value!r}")
        code = check_currency(currency)
        minor = major.scaleb(exponent(code))
        if minor != minor.to_integral_value():
            raise MoneyError(f"{code} amounts have at most {exponent(code)} decimal places")
        return cls(int(minor), code)

    @property
    def major(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    @property
    def plain(self) -> str:
        """Major units as typed by people: "10" for whole amounts, else "10.50"."""
        whole, rest = divmod(self.amount, 10 ** exponent(self.currency))
        return str(whole) if rest == 0 else str(self.major)

    def format(self, locale: str = "en") -> str:
        """Locale-aware display, e.g. "$10.00", "¥1,000", "10,00 €" (ru)."""
        return formatted(self.amount, self.currency, locale)

    def format_whole(self, locale: str = "en") -> str:
        """As people write a round sum: "$10", "10 $" (ru); "$10.50" keeps its cents."""
        return formatted_whole(self.amount, self.currency, locale)

    def __str__(self) -> str:
        return self.format("en")

    def _same_currency(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"Cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: object) -> Money:
        return Money(self.amount + self._same_currency(other).amount, self.currency)

    def __sub__(self, other: object) -> Money:
        return Money(self.amount - self._same_currency(other).amount, self.currency)

    def __lt__(self, other: object) -> bool:
        return self.amount < self._same_currency(other).amount

    def __le__(self, other: object) -> bool:
        return self.amount <= self._same_currency(other).amount
