"""Reader-side rules: which campaign speaks, what it suggests, and what a gift may be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale, gettext, lazy_gettext

from membership.cache import cached
from membership.extensions import db
from membership.models import Campaign, Frequency
from membership.money import Money, exponent

FREQUENCY_LABELS = {
    Frequency.ONE_OFF: lazy_gettext("One-off"),
    Frequency.MONTH: lazy_gettext("Monthly"),
    Frequency.YEAR: lazy_gettext("Annual"),
}
# Suggested gifts in major units, scaled for zero-decimal currencies (where 1 unit is tiny).
DEFAULT_SUGGESTIONS = {
    Frequency.ONE_OFF: (["10", "25", "50", "100"], "25"),
    Frequency.MONTH: (["5", "10", "20"], "10"),
    Frequency.YEAR: (["50", "100", "200"], "100"),
}
ZERO_DECIMAL_SCALE = 100


@dataclass(frozen=True)
class PromptCopy:
    headline: str
    body: str
    button: str


@dataclass(frozen=True)
class Suggestions:
    amounts: list[Money]
    default: Money


def running(now: datetime | None = None) -> sa.Select[Campaign]:
    """Campaigns inside their window and not archived, newest first."""
    now = now or datetime.now(UTC)
    return (
        sa.select(Campaign)
        .where(
            Campaign.archived.is_(False),
            sa.or_(Campaign.starts_at.is_(None), Campaign.starts_at <= now),
            sa.or_(Campaign.ends_at.is_(None), Campaign.ends_at > now),
        )
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )


RUNNING_LIMIT = 10  # more running appeals than this at once is not a real newsroom's case


def running_campaigns(limit: int = RUNNING_LIMIT) -> list[Campaign]:
    """The newest running campaigns, read from the database at most every CACHE_SECONDS."""

    def load() -> list[Campaign]:
        found = list(db.session.scalars(running().limit(RUNNING_LIMIT)))
        for campaign in found:
            # Detached, fully loaded: safe to read from later requests and other threads.
            db.session.expunge(campaign)
        return found

    return cached("campaigns:running", load)[:limit]


def named_campaign(slug: str | None) -> Campaign | None:
    """The running campaign with this slug, or None: what a gift is attributed to."""
    if not slug:
        return None
    recent = running_campaigns()
    found = next((c for c in recent if c.slug == slug), None)
    if found is None and len(recent) == RUNNING_LIMIT:  # more are running than we keep
        found = db.session.scalar(running().where(Campaign.slug == slug))
    return found


def active_campaign(slug: str | None = None) -> Campaign | None:
    """The campaign whose words to show: the named one if running, else the newest running."""
    newest = running_campaigns(1)
    return named_campaign(slug) or (newest[0] if newest else None)


def prompt_copy(campaign: Campaign | None) -> PromptCopy:
    """The campaign's words where it has them, the standard prompt (translated) elsewhere."""
    publication = current_app.config["PUBLICATION_NAME"]
    return PromptCopy(
        headline=(campaign and campaign.headline)
        or gettext("Support %(publication)s!", publication=publication),
        body=(campaign and campaign.body)
        or gettext("Now is the time to support independent reporting."),
        button=(campaign and campaign.button_text) or gettext("Contribute today"),
    )


def suggestions(campaign: Campaign | None, frequency: Frequency, currency: str) -> Suggestions:
    """Suggested amounts for this frequency and currency, with the one to preselect."""
    custom = ((campaign.suggested_amounts if campaign else None) or {}).get(frequency.value, {})
    if currency in custom:
        chosen = custom[currency]
        amounts = [Money(int(a), currency) for a in chosen["amounts"]]
        return Suggestions(amounts, Money(int(chosen.get("default", amounts[0].amount)), currency))
    majors, default = DEFAULT_SUGGESTIONS[frequency]
    scale = ZERO_DECIMAL_SCALE if exponent(currency) == 0 else 1

    def money(major: str) -> Money:
        return Money.from_major(str(int(major) * scale), currency)

    return Suggestions([money(m) for m in majors], money(default))


def suggestion_table(campaign: Campaign | None) -> dict[str, dict[str, dict[str, object]]]:
    """All suggestions, so the form's script can switch frequency or currency without a reload."""
    locale = str(get_locale() or "en")
    table: dict[str, dict[str, dict[str, object]]] = {}
    for frequency in Frequency:
        table[frequency.value] = {}
        for currency in currencies():
            found = suggestions(campaign, frequency, currency)
            table[frequency.value][currency] = {
                "amounts": [[m.plain, m.format_whole(locale)] for m in found.amounts],
                "default": found.default.plain,
            }
    return table


def amount_bounds(currency: str) -> tuple[Money, Money]:
    """The smallest and largest gift accepted in a currency; the minimum defeats card testing."""
    minimum = current_app.config["AMOUNT_MIN"].get(currency)
    maximum = current_app.config["AMOUNT_MAX"].get(currency)
    scale = ZERO_DECIMAL_SCALE if exponent(currency) == 0 else 1
    return (
        Money.from_major(minimum or str(3 * scale), currency),
        Money.from_major(maximum or str(10_000 * scale), currency),
    )


def currencies() -> list[str]:
    return list(current_app.config["CURRENCIES"])
