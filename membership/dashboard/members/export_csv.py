"""Spreadsheet-safe CSV, written row by row in Python: the export path for any database.

export_copy.py has the SQL twin of each cell function here; both must write the same bytes.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from membership.extensions import db
from membership.money import exponent

BATCH = 2000  # rows fetched per round trip; memory stays flat whatever the table size
LINES_PER_CHUNK = 200
# A spreadsheet runs a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One CSV cell as text, neutralised so no spreadsheet treats it as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.astimezone(UTC).isoformat()
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(getattr(value, "value", value))  # enums by their stored value
    return "'" + text if text.startswith(FORMULA_START) else text


def major(amount: int | None, currency: str | None) -> str:
    """Minor units as an exact decimal string in major units ("25.00", "500" for JPY)."""
    if amount is None or not currency:
        return ""
    return str(Decimal(amount).scaleb(-exponent(currency)))


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header, then one encoded line per row, produced as the cursor yields them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, values in enumerate(itertools.chain([header], rows), start=1):
        writer.writerow([cell(v) for v in values])
        if count % LINES_PER_CHUNK == 0:  # fewer, larger writes to the socket
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def fetched_csv(
    header: Sequence[str], stmt: sa.Select[*tuple[Any, ...]], to_row: Callable[[Any], Sequence[Any]]
) -> Iterator[str]:
    """csv_lines() over a server-side cursor, opened when the response body is first read.

    Not in the view: Flask ends the request's session when the view returns, and
    stream_with_context brings the contexts back only once the body is being read.
    """
    rows = db.session.execute(stmt.execution_options(yield_per=BATCH))
    yield from csv_lines(header, (to_row(row) for row in rows))
