"""Structured (JSON lines) logging, and one log line per request that carries no personal data."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's request id is kept only if it looks like one; anything else could be log injection.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

request_log = logging.getLogger("membership.request")
# The development server's access line: client IP, full path and query string.
WERKZEUG_ACCESS_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "')
# Terminal colour codes, which werkzeug puts in its start-up lines: noise in a log store.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def drop_access_lines(record: logging.LogRecord) -> bool:
    """Our request log replaces werkzeug's, which would record IPs and URLs with personal data."""
    return not WERKZEUG_ACCESS_LINE.match(record.getMessage())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy to ship to any log store, hard to forge with newlines."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": plain(record.getMessage()),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return ENCODER.encode(entry)


def plain(message: str) -> str:
    return ANSI_ESCAPE.sub("", message) if "\x1b" in message else message


# One encoder for every line: json.dumps(..., default=str) builds a new one each call.
ENCODER = json.JSONEncoder(default=str)


def configure(app: Flask) -> None:
    """Log JSON to stderr, unless something (a --log-config, pytest) already set logging up."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    logging.getLogger("membership").setLevel(app.config["LOG_LEVEL"])
    # The stripe library logs each request's URL (object ids) at INFO and bodies (emails,
    # names) at DEBUG: only its warnings, whatever LOG_LEVEL says.
    logging.getLogger("stripe").setLevel(logging.WARNING)
    werkzeug_log = logging.getLogger("werkzeug")
    if drop_access_lines not in werkzeug_log.filters:
        werkzeug_log.addFilter(drop_access_lines)
    app.before_request(start_request)
    app.after_request(log_request)


def current_request_id() -> str:
    return g.get("request_id", "-")


def start_request() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else secrets.token_hex(16)


def log_request(response: Response) -> Response:
    request_id = current_request_id()
    if request_log.isEnabledFor(logging.INFO):
        started = g.get("request_started", time.perf_counter())
        rule = request.url_rule
        fields = {
            "request_id": request_id,
            "method": request.method,
            # The route pattern, never the path or query: paths hold tokens, queries emails.
            "route": rule.rule if rule else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            # Never for a streamed body: counting it would read it all into memory first.
            "bytes": None if response.is_streamed else response.calculate_content_length(),
        }
        request_log.info("request", extra={"fields": fields})
    response.headers[REQUEST_ID_HEADER] = request_id
    return response
