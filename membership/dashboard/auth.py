"""Loads the signed-in staff user for Flask-Login, checked against the database each request."""

from __future__ import annotations

import hmac

from membership.extensions import db, login_manager
from membership.models import StaffUser


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
