"""The audit log page (admins): every recorded action, newest first, filterable by action."""

from __future__ import annotations

import json
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from membership.dashboard import bp
from membership.dashboard.audit import services
from membership.dashboard.staff.access import admin_required
from membership.input_guard import bounded_int


def describe(detail: dict[str, Any] | None) -> str:
    return json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else ""


@bp.get("/audit")
@admin_required
def audit() -> ResponseReturnValue:
    """Filter by ?action=; ?before= carries the keyset cursor to older entries."""
    action = request.args.get("action") or None
    page = services.find_entries(action, bounded_int(request.args.get("before")))
    return render_template(
        "dashboard/audit/log.html",
        page=page,
        actions=services.actions(),
        selected_action=action,
        describe=describe,
    )
