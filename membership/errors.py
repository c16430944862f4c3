"""Error pages and JSON errors that tell the reader what to do and leak nothing else."""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import format_timedelta, gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from membership.extensions import limiter
from membership.logs import current_request_id

log = logging.getLogger("membership.errors")

# The page's heading: what happened, in words; the bare code follows, small, for support.
TITLES = {
    400: _l("We could not understand that request"),
    403: _l("This page is not open to you"),
    404: _l("Page not found"),
    405: _l("That action is not possible here"),
    413: _l("That was more than we can accept"),
    429: _l("Please wait a little"),
    500: _l("Something went wrong on our side"),
}
# What to do next: the page's text, and the message of a JSON error.
MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("We could not find that page."),
    405: _l("That action is not allowed here."),
    413: _l("That request was too large."),
    429: _l("Too many attempts in a short time. Please wait a few minutes and try again."),
    500: _l("Your payment details were not affected. Please try again in a few minutes."),
}


class Refused(BadRequest):
    """A 400 whose page says what to change: `message`, translated when the page is made."""

    def __init__(self, message: Any) -> None:
        super().__init__()
        self.message = message


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_internal_error)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith(("/stripe/", "/healthz")) or best == "application/json"


def retry_after_seconds() -> int | None:
    """How long until the limit this request broke lets it through, as Retry-After says."""
    breached = [limit for limit in limiter.current_limits if limit.breached]
    if not breached:
        return None
    return max(0, max(limit.reset_at for limit in breached) - int(time.time()))


def try_again_message() -> str:
    """Too many attempts, and when to try again in the reader's words ("in 7 minutes")."""
    seconds = retry_after_seconds()
    if seconds is None:
        return str(MESSAGES[429])
    # Rounded up: a reader who comes back when told must not meet the limit again.
    minutes = max(1, math.ceil(seconds / 60))
    # threshold=2: "in 80 minutes", not "in 1 hour" (Babel rounds 1.3 hours down to one).
    when = format_timedelta(
        timedelta(minutes=minutes), granularity="minute", threshold=2, add_direction=True
    )
    return gettext("Too many attempts in a short time. Please try again %(when)s.", when=when)


def render_error(code: int, said: Any = None) -> tuple[Response | str, int]:
    """The error page, or JSON error; `said`, if given, replaces the code's usual message."""
    # Lazy: translated here, in the locale of the request being answered.
    fallback = 500 if code >= 500 else 400
    if said is not None:
        message = str(said)
    elif code == 429:
        message = try_again_message()
    else:
        message = str(MESSAGES.get(code, MESSAGES[fallback]))
    if wants_json():
        return jsonify(error={"status": code, "message": message}), code
    title = str(TITLES.get(code, TITLES[fallback]))
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=title,
            message=message,
            request_id=current_request_id(),
        ),
        code,
    )


def handle_http_error(error: HTTPException) -> HTTPException | tuple[Response | str, int, dict]:
    if error.code is None or error.code < 400:
        return error
    body, code = render_error(error.code, getattr(error, "message", None))
    valid_methods = getattr(error, "valid_methods", None)
    headers = {"Allow": ", ".join(valid_methods)} if valid_methods else {}
    return body, code, headers


def handle_internal_error(error: InternalServerError) -> tuple[Response | str, int]:
    # Flask has already logged the traceback; add the id the reader sees on the page.
    log.error(
        "unhandled error",
        extra={
            "fields": {
                "request_id": current_request_id(),
                "error": type(error.original_exception or error).__name__,
            }
        },
    )
    return render_error(500)
