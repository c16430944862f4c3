"""The offer to cover the card fees: what to add so the newsroom keeps the whole gift.

The processor takes a share of the total plus a fixed amount (COVER_FEES_PERCENT and
COVER_FEES_FIXED), so adding only that share of the gift falls short: the addition is itself
charged. The total is the gift grossed up, rounded up to a whole minor unit:

    total = ceil((gift + fixed) / (1 - percent / 100))

$10 at 2.9% + $0.30 is $10.61, of which the processor takes $0.61 and the newsroom keeps $10.
It is an estimate: the real fee depends on the card (international, Amex) and the account's
pricing, and Stripe reports the real one, which the dashboard shows as it always has.
give.js computes the same figure from `rules()` as the reader chooses; this one is the one
charged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import gettext

from membership.money import Money, exponent, parsed_locale

BASIS = 10_000  # basis points in a whole: COVER_FEES_PERCENT is kept as basis points


def offered() -> bool:
    config = current_app.config
    return bool(config["COVER_FEES"]) and (
        config["COVER_FEES_PERCENT"] > 0 or any(config["COVER_FEES_FIXED"].values())
    )


def cover_fee(gift: Money) -> Money:
    """What to add to `gift` so that the processor's estimated fee on the total is covered."""
    points = current_app.config["COVER_FEES_PERCENT"]
    fixed = current_app.config["COVER_FEES_FIXED"].get(gift.currency, 0)
    total = -(-(gift.amount + fixed) * BASIS // (BASIS - points))  # ceiling, in integers
    return Money(total - gift.amount, gift.currency)


def rules(currencies: list[str], locale: str) -> dict[str, Any]:
    """What give.js needs to show the same figure: basis points, fixed minor units, exponents,
    the estimate in words for each currency (while no valid amount is chosen), and the label
    with a {fee} slot."""
    fixed = current_app.config["COVER_FEES_FIXED"]
    return {
        "points": current_app.config["COVER_FEES_PERCENT"],
        "fixed": {code: fixed.get(code, 0) for code in currencies},
        "exponent": {code: exponent(code) for code in currencies},
        "words": {code: described(code, locale) for code in currencies},
        "label": offer_label("{fee}"),
    }


def described(currency: str, locale: str) -> str:
    """The estimate as people read it: "2.9% + $0.30", or "2.9%" with no fixed part."""
    points = current_app.config["COVER_FEES_PERCENT"]
    fixed = current_app.config["COVER_FEES_FIXED"].get(currency, 0)
    if not points:
        return Money(fixed, currency).format(locale)
    text = f"{format_decimal(Decimal(points).scaleb(-2), locale=parsed_locale(locale))}%"
    return f"{text} + {Money(fixed, currency).format(locale)}" if fixed else text


def offer(currency: str, locale: str) -> str | None:
    """The checkbox's words with the estimate for `currency`; None when nothing is offered."""
    return offer_label(described(currency, locale)) if offered() else None


def offer_label(estimate: str) -> str:
    """The checkbox's words, with the estimate ("$0.61", or "2.9% + $0.30") in them."""
    return gettext(
        "Add %(estimate)s to cover the card fees, so all of my gift reaches %(publication)s.",
        estimate=estimate,
        publication=current_app.config["PUBLICATION_NAME"],
    )


def metadata_amount(metadata: Any, total: int) -> int:
    """The covered fee a payment's metadata names (our own, put there by checkout_params), as
    whole minor units below the total; anything else (absent, edited by hand in Stripe's
    dashboard into nonsense) counts as none."""
    raw = (metadata or {}).get("fee_covered") if isinstance(metadata, dict) else None
    if not isinstance(raw, str) or not raw.isdigit():
        return 0
    value = int(raw)
    return value if value < total else 0
