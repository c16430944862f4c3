"""Staff sessions: the Flask-Login user loader, and the checks every /staff request passes."""

from __future__ import annotations

import hmac
import logging
import time

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from membership.dashboard import bp
from membership.dashboard.audit.services import record
from membership.dashboard.staff.access import is_marked
from membership.extensions import db, login_manager
from membership.models import StaffUser

log = logging.getLogger("membership.dashboard")

# Unix seconds, kept in the signed session cookie: when this login began, and the last request.
LOGIN_AT = "staff_login_at"
SEEN_AT = "staff_seen_at"
# SEEN_AT moves on only once it is this old: rewriting (re-signing) the session cookie on every
# request buys nothing, and the idle limit ends at most this much early.
SEEN_AT_STEP = 60

login_manager.login_view = "dashboard.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_staff(session_id: str) -> StaffUser | None:
    """The session id is "<id>:<session_token>": a new token or a disabled user ends it."""
    staff_id, _, token = session_id.partition(":")
    if not staff_id.isdigit() or not token:
        return None
    staff = db.session.get(StaffUser, int(staff_id))
    if staff is None or not staff.active or not hmac.compare_digest(staff.session_token, token):
        return None
    return staff


def start_session(staff: StaffUser) -> None:
    """Stamp a fresh login (the caller has cleared the session and called login_user)."""
    now = int(time.time())
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def end_session() -> None:
    """Forget the login and anything else this browser's session held."""
    logout_user()
    session.clear()


def expiry_reason(now: float) -> str | None:
    """Why this session is over ("idle" or "absolute"), or None while it is still valid."""
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    # A session without the stamps predates them or was made by hand: treat it as expired.
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "absolute"
    if now - login_at > current_app.config["STAFF_SESSION_HOURS"] * 3600:
        return "absolute"
    if now - seen_at > current_app.config["STAFF_IDLE_MINUTES"] * 60:
        return "idle"
    return None


@bp.after_request
def private_pages(response: Response) -> Response:
    """Staff pages show members' names and emails: kept out of every cache (a shared
    computer's browser included). Like every page, they are not framed (security.py)."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_request
def check_staff_session() -> Response | None:
    """Refuse unmarked views; end sessions past their idle or absolute limit; note activity."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and not is_marked(view):
        # Fail closed: a /staff view without staff_required/admin_required is a bug.
        log.error("unprotected staff view refused", extra={"fields": {"view": request.endpoint}})
        abort(403)
    if not current_user.is_authenticated:
        return None
    now = time.time()
    reason = expiry_reason(now)
    if reason is None:
        if now - session[SEEN_AT] >= SEEN_AT_STEP:
            session[SEEN_AT] = int(now)
        return None
    record("staff.session_expired", "staff_user", current_user.id, {"reason": reason})
    db.session.commit()
    end_session()
    flash("Your session has ended. Please sign in again.", "info")
    if request.endpoint in ("dashboard.login", "dashboard.login_submit"):
        return None
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("dashboard.login", next=next_path))
