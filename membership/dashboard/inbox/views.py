"""The webhook inbox page: stored Stripe events, their state and errors; admins can replay one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from membership.dashboard import bp
from membership.dashboard.inbox import services
from membership.dashboard.inbox.forms import ReplayForm
from membership.dashboard.redirects import safe_next
from membership.dashboard.staff.access import admin_required, staff_required


@bp.get("/webhooks")
@staff_required
def webhooks() -> ResponseReturnValue:
    """Filter by ?type= and ?state=; ?after= carries the cursor to the next page."""
    event_type = request.args.get("type") or None
    state = request.args.get("state") or None
    page = services.find_events(event_type, state, request.args.get("after"))
    return render_template(
        "dashboard/inbox/events.html",
        page=page,
        state_of=services.state_of,
        types=services.event_types(),
        states=services.STATES,
        state_labels=services.STATE_LABELS,
        selected_type=event_type,
        selected_state=state,
        replay_form=ReplayForm(),
    )


@bp.post("/webhooks/<event_id>/replay")
@admin_required
def webhook_replay(event_id: str) -> ResponseReturnValue:
    """Run a stored event through its handler again, exactly as `flask stripe replay` does."""
    if not ReplayForm().validate():
        abort(400)
    outcome = services.replay(event_id)
    if outcome is None:
        abort(404)
    category = "error" if outcome in ("failed", "not found at Stripe") else "success"
    flash(f"Replayed {event_id}: {outcome}.", category)
    return redirect(safe_next(request.form.get("back")) or url_for("dashboard.webhooks"))
