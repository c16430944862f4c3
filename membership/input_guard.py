"""Hostile input stops at the door: control characters, files where text belongs, huge ids.

One before_request hook, not a filter on each form: the same rule then covers every path,
query parameter and form field, also those read straight from request.args (the staff
filters) and forms added later. PostgreSQL refuses a NUL byte in any text value (a 500 deep
in a query), and no reader types control characters; tabs and line breaks stay, for text
areas. No form here takes a file. Path ids are bounded by their columns (32-bit integers),
so a 30-digit id is a page not found, not an overflow in the database driver.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, ValidationError

from membership.errors import Refused

# C0 controls and DEL, less tab, line feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same, percent-encoded, as a query string carries them.
ENCODED_CONTROL = re.compile(r"%(?:0[0-8bcef]|1[0-9a-f]|7f)", re.IGNORECASE)
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# INTEGER columns: every id, and the years and cursors compared with them.
INT_MAX = 2**31 - 1

CONTROL_MESSAGE = _l(
    "What you sent holds control characters (such as a NUL byte), which no text here can "
    "hold. Please remove them and try again."
)
FILE_MESSAGE = _l("This form takes text only, not files.")


def init_app(app: Flask) -> None:
    """Before the blueprints, whose <int:...> rules take the bounded converter."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(refuse_hostile_input)


def refuse_hostile_input() -> None:
    environ = request.environ
    # Raw on the common path (a GET without a query reads no more than two strings).
    if CONTROL.search(environ.get("PATH_INFO", "")):
        raise Refused(CONTROL_MESSAGE)
    query = environ.get("QUERY_STRING", "")
    suspect = query and (ENCODED_CONTROL.search(query) or CONTROL.search(query))
    if suspect and has_control(request.args):
        raise Refused(CONTROL_MESSAGE)
    if request.mimetype in FORM_TYPES:
        if request.files:
            raise Refused(FILE_MESSAGE)
        if has_control(request.form):
            raise Refused(CONTROL_MESSAGE)


def has_control(values: Any) -> bool:
    return any(CONTROL.search(k) or CONTROL.search(v) for k, v in values.items(multi=True))


def bounded_int(text: str | None) -> int | None:
    """A query parameter's id or cursor, if it is digits that fit an INTEGER column."""
    if not text or len(text) > 10 or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= INT_MAX else None


class BoundedInt(IntegerConverter):
    """`<int:...>` up to INT_MAX: past it, the route does not match (404)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(*args, **kwargs)

    def to_python(self, value: str) -> Any:
        if len(value) > 10:  # no int() of a 5,000-digit string (Python refuses past 4,300)
            raise ValidationError()
        return super().to_python(value)
