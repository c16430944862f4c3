"""Reporting periods: ?from=&to= as whole UTC days; timestamps grouped by month in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from membership.extensions import db

MAX_PERIOD_DAYS = 3660


class PeriodError(ValueError):
    """A from/to pair that cannot be a reporting period; the message is shown to staff."""


@dataclass(frozen=True)
class Period:
    """Whole UTC days, both ends included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return datetime(self.last.year, self.last.month, self.last.day, tzinfo=UTC) + timedelta(
            days=1
        )

    def months(self) -> list[str]:
        """Every "YYYY-MM" the period touches, so empty months still get a chart slot."""
        year, month, found = self.first.year, self.first.month, []
        while (year, month) <= (self.last.year, self.last.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


def default_period(today: date) -> Period:
    """The last 12 months: from the first day of the month 11 months ago through today."""
    month_index = today.year * 12 + today.month - 1 - 11
    return Period(date(month_index // 12, month_index % 12 + 1, 1), today)


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """A Period from ?from=YYYY-MM-DD&to=YYYY-MM-DD; either may be blank (then the default)."""
    default = default_period(today)
    first = parse_day(raw_from, "from") or default.first
    last = parse_day(raw_to, "to") or default.last
    if first > last:
        raise PeriodError("The start date must be on or before the end date.")
    if (last - first).days > MAX_PERIOD_DAYS:
        raise PeriodError("The period may be at most ten years long.")
    return Period(first, last)


def parse_day(raw: str | None, name: str) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise PeriodError(f"'{name}' must be a date like 2026-01-31.") from None
    if day.year < 2000 or day.year > 2100:
        raise PeriodError(f"'{name}' must be between the years 2000 and 2100.")
    return day


def dialect() -> str:
    return db.session.get_bind().dialect.name


def month_of(column: Any) -> Any:
    """The first day of a timestamp's UTC month, as a date, computed by the database."""
    if dialect() == "postgresql":
        # date_trunc groups far faster than to_char over hundreds of thousands of rows.
        # Literal arguments, not bind parameters: PostgreSQL then sees the GROUP BY expression
        # as the selected one and can hash-aggregate instead of sorting every row.
        utc = sa.func.timezone(sa.literal_column("'UTC'"), column)
        return sa.cast(sa.func.date_trunc(sa.literal_column("'month'"), utc), sa.Date)
    # SQLite stores UTC text ("2026-11-01 12:00:00"); the Date type parses the result back.
    return sa.type_coerce(sa.func.date(column, "start of month"), sa.Date)


def month_key(value: date | str) -> str:
    """ "YYYY-MM" from either database's month value."""
    return value.strftime("%Y-%m") if isinstance(value, date) else value[:7]
