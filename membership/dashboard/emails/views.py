"""The outbox pages (admins): every email's state; in development, what it said (audit-logged)."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from membership.dashboard import bp
from membership.dashboard.emails import services
from membership.dashboard.staff.access import admin_required
from membership.input_guard import bounded_int
from membership.security import page_policy


@bp.get("/emails")
@admin_required
def emails() -> ResponseReturnValue:
    """Filter by ?status= and ?template=; ?after= carries the cursor to the next page."""
    status = request.args.get("status") or None
    template = request.args.get("template") or None
    page = services.find_emails(status, template, bounded_int(request.args.get("after")))
    return render_template(
        "dashboard/emails/list.html",
        page=page,
        statuses=services.STATUSES,
        templates=services.templates_in_use(),
        selected_status=status,
        selected_template=template,
        bodies_viewable=services.bodies_viewable(),
    )


@bp.get("/emails/<int:email_id>")
@admin_required
def emails_detail(email_id: int) -> ResponseReturnValue:
    """One email's state and, in development, its text and HTML (a PII view: audit-logged)."""
    found = services.email_detail(email_id)
    if found is None:
        abort(404)
    page = render_template(
        "dashboard/emails/detail.html",
        email=found.email,
        rendered=found.rendered,
        problem=found.problem,
        bodies_viewable=services.bodies_viewable(),
    )
    # The email's HTML, in a sandboxed frame, inherits this page's policy: its inline styles
    # (what email clients read) need 'unsafe-inline'; the frame still runs no script.
    policy = page_policy(current_app.config, style_src=("'unsafe-inline'",))
    return page, {"Content-Security-Policy": policy}
