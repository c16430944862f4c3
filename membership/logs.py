"""Structured (JSON lines) logging, and one log line per request that carries no personal data."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's request id is kept only if it looks like one; anything else could be log injection.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

request_log = logging.getLogger("membership.request")
# The development server's access line: client IP, full path and query string.
WERKZEUG_ACCESS_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "')


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
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(app: Flask) -> None:
    """Log JSON to stderr, unless something (a --log-config, pytest) already set logging up."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    logging.getLogger("membership").setLevel(app.config["LOG_LEVEL"])
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
    g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex


def log_request(response: Response) -> Response:
    # The route pattern, never the path or query: paths can hold tokens, queries can hold emails.
    route = request.url_rule.rule if request.url_rule else None
    started = g.get("request_started", time.perf_counter())
    request_log.info(
        "request",
        extra={
            "fields": {
                "request_id": current_request_id(),
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "bytes": response.calculate_content_length(),
            }
        },
    )
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    return response
