"""Readiness: is the database reachable, and is its schema the one this code expects? And is
the rate limits' storage answering, which decides whether /healthz says "degraded"."""

from __future__ import annotations

import logging
import os

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from membership.extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger("membership.health")


def expected_revision() -> str | None:
    """The newest migration shipped with this code (read once per app)."""
    cached = current_app.extensions.get("schema_head")
    if cached is None:
        directory = current_app.extensions["migrate"].directory
        script = ScriptDirectory(os.path.abspath(directory))
        cached = current_app.extensions["schema_head"] = script.get_current_head() or ""
    return cached or None


def schema_state() -> str:
    """'current', 'behind' (run `flask db upgrade`) or 'unavailable'; never raises."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("database check failed", extra={"fields": {"error": type(exc).__name__}})
        return "unavailable"
    try:
        row = db.session.execute(text("SELECT version_num FROM alembic_version")).first()
    except SQLAlchemyError:  # no alembic_version table: never migrated
        db.session.rollback()
        return "behind"
    return "current" if row is not None and row[0] == expected_revision() else "behind"


def rate_limits_shared() -> bool:
    """Whether the limiter's storage answers (a ping to Redis; memory:// always does). When it
    does not, Flask-Limiter counts in each process's memory until it is back (config.py)."""
    return limiter.storage.check()


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    state = schema_state()
    healthy = state == "current"
    body = {
        "status": "ok" if healthy else "error",
        "database": "unavailable" if state == "unavailable" else "ok",
        "schema": state,
    }
    # Degraded, still ready: without Redis every web server limits on its own, and taking
    # them all out of the load balancer would stop giving altogether (README, Deploying).
    if not rate_limits_shared():
        body["rate_limits"] = "per-process"
        body["status"] = "degraded" if healthy else "error"
    return jsonify(body), 200 if healthy else 503
