"""Error pages and JSON errors that tell the reader what to do and leak nothing else."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

from membership.logs import current_request_id

log = logging.getLogger("membership.errors")

MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("We could not find that page."),
    405: _l("That action is not allowed here."),
    413: _l("That request was too large."),
    429: _l("Too many attempts in a short time. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. Your payment details were not affected."),
}


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_internal_error)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith(("/stripe/", "/healthz")) or best == "application/json"


def render_error(code: int) -> tuple[Response | str, int]:
    # Lazy: translated here, in the locale of the request being answered.
    message = str(MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400]))
    if wants_json():
        return jsonify(error={"status": code, "message": message}), code
    return (
        render_template(
            "errors/error.html", code=code, message=message, request_id=current_request_id()
        ),
        code,
    )


def handle_http_error(error: HTTPException) -> HTTPException | tuple[Response | str, int, dict]:
    if error.code is None or error.code < 400:
        return error
    body, code = render_error(error.code)
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
