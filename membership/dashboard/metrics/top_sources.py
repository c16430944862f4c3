"""Where gifts come from: campaigns and referring articles ranked by gross, per currency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from membership.dashboard.metrics import rollups
from membership.dashboard.metrics.periods import Period, dialect
from membership.extensions import db
from membership.models import COUNTED, Article, Campaign, Donation, SourceMonth
from membership.money import Money


@dataclass(frozen=True)
class Source:
    label: str  # campaign name or article URL
    currency: str
    gross: Money
    count: int


def top_campaigns(period: Period, limit: int = 5) -> list[Source]:
    """Campaigns ranked by gross within each currency."""
    facts = source_facts(Donation.campaign_id, SourceMonth.campaign_id, None, period)
    return ranked_sources(facts, Campaign.name, limit)


def top_articles(period: Period, limit: int = 10) -> list[Source]:
    """Referring articles ranked by gross within each currency."""
    facts = source_facts(Donation.article_url, SourceMonth.article_id, Article, period)
    return ranked_sources(facts, None, limit)


def source_facts(
    source: sa.orm.InstrumentedAttribute[Any],
    rolled_id: sa.orm.InstrumentedAttribute[int | None],
    named_by: type[Article] | None,
    period: Period,
) -> sa.Subquery:
    """(source, currency, gifts, gross) rows for the period: its fresh closed months summed from
    the rollup by integer id, the rest grouped straight from `donation`."""
    cover = rollups.coverage(period.start, period.end)
    raw = (
        sa.select(
            source.label("source"),
            Donation.currency.label("currency"),
            sa.func.count().label("gifts"),
            sa.func.sum(Donation.amount).label("gross"),
        )
        .where(Donation.status.in_(COUNTED), cover.raw(), source.is_not(None))
        .group_by(source, Donation.currency)
    )
    if not cover.months:
        return raw.subquery()
    rolled = (
        sa.select(
            rolled_id.label("id"),
            SourceMonth.currency,
            sa.func.sum(SourceMonth.gifts).label("gifts"),
            sa.func.sum(SourceMonth.gross).label("gross"),
        )
        .where(SourceMonth.month.in_(cover.months), rolled_id.is_not(None))
        .group_by(rolled_id, SourceMonth.currency)
        .subquery()
    )
    named = sa.select(rolled.c.id, rolled.c.currency, rolled.c.gifts, rolled.c.gross)
    if named_by is not None:
        named = named.with_only_columns(
            named_by.url, rolled.c.currency, rolled.c.gifts, rolled.c.gross
        ).join(named_by, named_by.id == rolled.c.id)
    return raw.union_all(named).subquery()


def ranked_sources(
    facts: sa.Subquery, campaign_name: sa.orm.InstrumentedAttribute[str] | None, limit: int
) -> list[Source]:
    """The top `limit` sources per currency by gross (ties by label)."""
    label: Any = facts.c.source if campaign_name is None else campaign_name
    gross = sa.func.sum(facts.c.gross)
    # Ties go by label in byte order: the same on both databases, and far cheaper to sort than
    # a locale's collation over thousands of article URLs.
    tie = label.collate("C") if dialect() == "postgresql" else label
    rank = sa.func.row_number().over(partition_by=facts.c.currency, order_by=(gross.desc(), tie))
    inner = sa.select(
        label.label("label"),
        facts.c.currency,
        gross.label("gross"),
        sa.func.sum(facts.c.gifts).label("gifts"),
        rank.label("rank"),
    )
    if campaign_name is None:
        inner = inner.group_by(facts.c.source, facts.c.currency)
    else:
        inner = inner.join(Campaign, Campaign.id == facts.c.source).group_by(
            Campaign.id, Campaign.name, facts.c.currency
        )
    ranked = inner.subquery()
    stmt = (
        sa.select(ranked.c.label, ranked.c.currency, ranked.c.gross, ranked.c.gifts)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.currency, ranked.c.rank)
    )
    return [
        Source(name, currency, Money(int(total), currency), int(gifts))
        for name, currency, total, gifts in db.session.execute(stmt)
    ]
