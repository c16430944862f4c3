"""Who a receipt is from: the organisation's details as configured, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale


@dataclass(frozen=True)
class Issuer:
    name: str
    address: tuple[str, ...]
    tax_id: str | None
    tax_note: str | None


def issuer() -> Issuer:
    """The receipt's organisation block; what is unset stays empty and is left off the page."""
    config = current_app.config
    default = config["BABEL_DEFAULT_LOCALE"]
    locale = str(get_locale() or default)
    # A sentence for the tax office is better in English than missing: English stands in.
    translated = config.get(f"RECEIPT_TAX_NOTE_{locale.upper()}") if locale != default else None
    address = config.get("ORG_ADDRESS") or ""
    return Issuer(
        name=config.get("ORG_NAME") or config["PUBLICATION_NAME"],
        address=tuple(line.strip() for line in address.split(";") if line.strip()),
        tax_id=config.get("ORG_TAX_ID") or None,
        tax_note=translated or config.get("RECEIPT_TAX_NOTE") or None,
    )
