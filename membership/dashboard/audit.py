"""The audit trail: who did what to which record, written with the change it describes."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from membership.extensions import db
from membership.models import AuditEntry

# The actions written today, for the audit page's filter; others' new actions show up too
# (the filter also lists whatever is in the table).
KNOWN_ACTIONS = (
    "staff.login",
    "staff.login_failed",
    "staff.logout",
    "staff.session_expired",
    "staff.create",
    "staff.disable",
    "webhook.replay",
)


def record(
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    actor: str | None = None,
    *,
    staff_user_id: int | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits).

    The signed-in user is the actor unless `staff_user_id` names one (a login, before
    anyone is signed in).
    """
    if staff_user_id is None and current_user and current_user.is_authenticated:
        staff_user_id = current_user.id
    entry = AuditEntry(
        staff_user_id=staff_user_id,
        actor=actor or ("staff" if staff_user_id else "system"),
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        detail=detail,
    )
    db.session.add(entry)
    return entry
