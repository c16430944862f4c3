"""Database connections: a pooled connection is pinged before use only if it sat idle.

SQLAlchemy's `pool_pre_ping` pings on every checkout: one round trip per request, a fifth of
the work of storing a webhook event (README, Benchmarks). The connections that go bad are the
idle ones: the server's or a proxy's idle timeout, a firewall dropping quiet TCP sessions, a
restart during a quiet spell. So a connection back from use within DATABASE_PING_AFTER_IDLE
seconds is trusted, and any other is pinged, and replaced if the ping fails.

What that trades: if the database restarts while the pool is busy, the first request on each
worker to use a connection from before the restart fails (a webhook gets a 500, and Stripe
delivers it again). SQLAlchemy then sees the disconnect and replaces the whole pool, so the
requests after it succeed.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event, exc

IDLE_SINCE = "idle_since"  # key in the pool's per-connection `info`, set at each check-in


def ping_after_idle(engine: Engine, seconds: float) -> None:
    """Ping a connection at checkout if it has been idle at least `seconds` (0: always)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return  # new, or just used
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("idle connection failed its ping") from error
        if not alive:
            raise exc.DisconnectionError("idle connection failed its ping")


def quote_no_rows(engine: Engine) -> None:
    """Database errors without the values of a row, as hide_parameters keeps out the statement's.

    PostgreSQL adds a DETAIL to some errors that quotes the row ('Key (email)=(...) already
    exists'), and psycopg puts it in the message that tracebacks and logs print. The primary
    message (which constraint, which column) stays; the details remain on `diag` for code.
    """

    @event.listens_for(engine, "handle_error")
    def _without_detail(context: Any) -> None:
        error = context.original_exception
        diag = getattr(error, "diag", None)
        if diag is None or not diag.message_detail or not diag.message_primary:
            return
        wrapped = context.sqlalchemy_exception  # its message already holds the driver's
        if wrapped is not None and wrapped.args and isinstance(wrapped.args[0], str):
            wrapped.args = (wrapped.args[0].replace(str(error), diag.message_primary),)
        error.args = (diag.message_primary,)


def init_app(app: Flask, engine: Engine) -> None:
    ping_after_idle(engine, app.config["DATABASE_PING_AFTER_IDLE"])
    quote_no_rows(engine)
