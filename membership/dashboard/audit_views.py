"""The audit log page (admins): every recorded action, newest first, filterable by action."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import joinedload

from membership.dashboard import bp
from membership.dashboard.access import admin_required
from membership.dashboard.audit import KNOWN_ACTIONS
from membership.extensions import db
from membership.input_guard import bounded_int
from membership.models import AuditEntry

PAGE_SIZE = 50


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


def describe(detail: dict[str, Any] | None) -> str:
    return json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else ""


@bp.get("/audit")
@admin_required
def audit() -> ResponseReturnValue:
    """Filter by ?action=; ?before= carries the keyset cursor to older entries."""
    action = request.args.get("action") or None
    page = find_entries(action, bounded_int(request.args.get("before")))
    return render_template(
        "dashboard/audit.html",
        page=page,
        actions=actions(),
        selected_action=action,
        describe=describe,
    )
