"""CSV exports on PostgreSQL: the server formats every cell and streams the file with COPY.

Each cell function here is the SQL twin of one in export_csv.py and writes the same bytes
(tests/dashboard/test_export_copy.py compares the two paths on the same rows). A million rows
then cost Python one buffer append each, not a row object, a Decimal and a csv.writer call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from membership.dashboard.members.export_csv import FORMULA_START, csv_lines
from membership.extensions import db
from membership.money import THREE_DECIMAL, ZERO_DECIMAL, exponent

CHUNK_BYTES = 64 * 1024  # rows are gathered into writes of about this size
ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS'  # to_char() for datetime.isoformat(), without the fraction
# Currencies by exponent where it is not the usual one, as money.exponent() gives them.
UNUSUAL_EXPONENTS = {
    places: sorted(code for code in ZERO_DECIMAL | THREE_DECIMAL if exponent(code) == places)
    for places in sorted({exponent(code) for code in ZERO_DECIMAL | THREE_DECIMAL})
}
USUAL_EXPONENT = exponent("XTS")  # ISO's code for testing: in neither list

Value = sa.ColumnElement[Any] | QueryableAttribute[Any]


def supported(dialect: sa.Dialect) -> bool:
    """COPY needs PostgreSQL through psycopg 3; anything else takes the Python path."""
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def text_cell(value: Value) -> sa.ColumnElement[str]:
    """cell() for text. An empty string becomes NULL: COPY would quote it, csv.writer does not."""
    text = sa.func.nullif(sa.cast(value, sa.Text), "")
    formula = sa.func.ascii(text).in_([ord(start) for start in FORMULA_START])
    return sa.case((formula, sa.literal("'", sa.Text) + text), else_=text)


def timestamp_cell(value: Value) -> sa.ColumnElement[str]:
    """cell() for a datetime: isoformat() in UTC, with microseconds only when there are some."""
    utc = sa.func.timezone("UTC", value)
    return sa.case(
        (sa.func.date_trunc("second", utc) == utc, sa.func.to_char(utc, ISO_UTC + '"+00:00"')),
        else_=sa.func.to_char(utc, ISO_UTC + '.US"+00:00"'),
    )


def flag_cell(value: Value) -> sa.ColumnElement[str]:
    """cell() for a boolean."""
    return sa.case((value.is_(True), "yes"), (value.is_(False), "no"))


def number_cell(value: Value, text: sa.ColumnElement[Any] | None = None) -> sa.ColumnElement[str]:
    """cell() for a number (or `text`, its formatted form): its text starts with a digit or
    "-", so only a negative one needs the quote."""
    text = sa.cast(value, sa.Text) if text is None else text
    return sa.case((value < 0, sa.literal("'", sa.Text) + text), else_=text)


def major_cell(amount: Value, currency: Value) -> sa.ColumnElement[str]:
    """cell(major(...)): an integer times 10^-exponent has exactly `exponent` decimals."""

    def scaled(places: int) -> sa.ColumnElement[Any]:
        return sa.cast(amount * sa.literal(Decimal(1).scaleb(-places), sa.Numeric), sa.Text)

    code = sa.func.upper(currency)
    text = sa.case(
        (sa.func.coalesce(currency, "") == "", None),
        *((code.in_(codes), scaled(places)) for places, codes in UNUSUAL_EXPONENTS.items()),
        else_=scaled(USUAL_EXPONENT),
    )
    return number_cell(amount, text)


def copy_statement(cursor: psycopg.ClientCursor[Any], stmt: sa.Select[*tuple[Any, ...]]) -> str:
    """COPY (stmt) TO STDOUT as CSV. COPY takes no bind parameters, so psycopg quotes each
    value into the statement as a literal, as sql.Literal does; none is user text spliced in."""
    compiled = stmt.compile(dialect=db.session.get_bind().dialect).construct_expanded_state()
    params = {  # as SQLAlchemy would send them: enums as their values, datetimes in UTC
        name: compiled.processors[name](value) if name in compiled.processors else value
        for name, value in compiled.parameters.items()
    }
    return cursor.mogrify(f"COPY ({compiled.statement}) TO STDOUT WITH (FORMAT csv)", params)


def copy_csv(header: Sequence[str], stmt: sa.Select[*tuple[Any, ...]]) -> Iterator[bytes]:
    """The header, then the rows of `stmt` (all text cells) in chunks, as the server sends them.

    Like fetched_csv(), it starts the query only when the response body is first read.
    """
    raw = db.session.connection().connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    with psycopg.ClientCursor(raw) as cursor:
        if raw.info.encoding != "utf-8":  # the bytes go out as they come in
            cursor.execute("SET LOCAL client_encoding TO 'UTF8'")
        with cursor.copy(copy_statement(cursor, stmt)) as copy:
            yield "".join(csv_lines(header, [])).encode()
            buffer = bytearray()
            for row in copy:  # one row per message, ending "\n"; csv.writer ends rows "\r\n"
                buffer += row[:-1]
                buffer += b"\r\n"
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
            if buffer:
                yield bytes(buffer)
