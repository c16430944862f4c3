"""The audit trail: who did what to which record, written with the change; read back by page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy.orm import joinedload

from membership.extensions import db
from membership.models import AuditEntry

PAGE_SIZE = 50
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


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: int | None  # the last id shown, when there may be more


def find_entries(action: str | None, before: int | None) -> AuditPage:
    """Newest first, keyset-paged on id: ids only grow, so a page never shifts under the reader."""
    stmt = (
        sa.select(AuditEntry)
        .options(joinedload(AuditEntry.staff_user))
        .order_by(AuditEntry.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    rows = list(db.session.scalars(stmt))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return AuditPage(rows, rows[-1].id if more else None)


def actions() -> list[str]:
    """What the filter offers: the actions we write plus any others already in the table."""
    found = set(db.session.scalars(sa.select(AuditEntry.action).distinct()))
    return sorted(found | set(KNOWN_ACTIONS))
