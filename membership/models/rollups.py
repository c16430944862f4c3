"""Totals derived from `donation`, so staff pages read a few rows instead of a million.

Monthly totals, for the overview: `dashboard/metrics/rollups.py` rebuilds a month from `donation`,
and any change to a gift in a closed month marks that month stale until it is rebuilt. The
overview reads a month from here only while it is fresh, and straight from `donation` otherwise.

Each member's giving, for the member list: `members/giving.py` refreshes a member's rows in
the transaction that changes their gifts.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from membership.extensions import Model
from membership.models.columns import UTCDateTime, enum_column
from membership.models.enums import DonationKind


class RollupMonth(Model):
    """One closed UTC month: whether its totals below match `donation` right now."""

    __tablename__ = "rollup_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the month's first day
    fresh: Mapped[bool] = mapped_column(default=False)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GiftMonth(Model):
    """Counted gifts of one month grouped by currency, kind, amount and settlement currency."""

    __tablename__ = "gift_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    kind: Mapped[DonationKind] = mapped_column(
        enum_column(DonationKind, "donation_kind"), primary_key=True
    )
    amount: Mapped[int] = mapped_column(primary_key=True)
    settled: Mapped[str] = mapped_column(String(3), primary_key=True)  # fees' currency
    gifts: Mapped[int] = mapped_column()
    refunded: Mapped[int] = mapped_column(BigInteger)  # refunds plus lost disputes
    fee_gifts: Mapped[int] = mapped_column()  # gifts whose fee Stripe reported
    fees: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    covered_gifts: Mapped[int] = mapped_column(server_default="0")  # readers covered the fees
    covered: Mapped[int] = mapped_column(BigInteger, server_default="0")  # what they added


class Article(Model):
    """A referring article's URL, numbered so the rollups group by an integer, not a URL."""

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)


class SourceMonth(Model):
    """Gross of one month per currency and campaign, or per currency and referring article."""

    __tablename__ = "source_month"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    campaign_id: Mapped[int | None] = mapped_column()  # no foreign keys: totals outlive rows
    article_id: Mapped[int | None] = mapped_column()
    gifts: Mapped[int] = mapped_column()
    gross: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("(campaign_id IS NULL) <> (article_id IS NULL)", name="one_source"),
        # One per kind of source, covering on PostgreSQL: a year of article totals is read from
        # the index alone, and the campaign ranking never touches the article rows.
        *(
            Index(
                f"ix_source_month_{column}",
                "month",
                column,
                postgresql_include=["currency", "gifts", "gross"],
            )
            for column in ("campaign_id", "article_id")
        ),
    )


class MemberGiving(Model):
    """What one member gave in one currency: counted gifts, less refunds and lost disputes.

    Kept in step with `donation` by members/giving.py as gifts are written, so the member list
    sorts 200k members by total given through an index instead of summing every gift.
    """

    __tablename__ = "member_giving"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    kept: Mapped[int] = mapped_column(BigInteger)
    gifts: Mapped[int] = mapped_column()
    last_gift_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # Largest givers in a currency first, a page at a time (keyset on member_id).
        Index("ix_member_giving_total", "currency", "kept", "member_id"),
    )
