"""The outbox for staff: every email's state; in development, what it said (audit-logged).

Bodies are shown only while the app delivers no mail (no MAIL_SERVER): there the outbox is
the only place a developer or a demo can read them. With real delivery, staff see status
only, so a receipt's contents stay between the newsroom's mail server and the donor.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from membership.dashboard import bp
from membership.dashboard.access import admin_required
from membership.dashboard.audit import record
from membership.extensions import db
from membership.input_guard import bounded_int
from membership.mail.render import Rendered, UnknownTemplate, render
from membership.models import OutboxEmail, OutboxStatus
from membership.security import page_policy

PAGE_SIZE = 50
STATUSES = tuple(status.value for status in OutboxStatus)


@dataclass(frozen=True)
class EmailsPage:
    emails: list[OutboxEmail]
    next_cursor: int | None  # the last id shown, when there may be more


def bodies_viewable() -> bool:
    return not current_app.config.get("MAIL_SERVER")


def find_emails(status: str | None, template: str | None, after: int | None) -> EmailsPage:
    """Newest first, keyset-paged on id."""
    stmt = sa.select(OutboxEmail).order_by(OutboxEmail.id.desc())
    if status in STATUSES:
        stmt = stmt.where(OutboxEmail.status == status)
    if template:
        stmt = stmt.where(OutboxEmail.template == template)
    if after:
        stmt = stmt.where(OutboxEmail.id < after)
    rows = list(db.session.scalars(stmt.limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return EmailsPage(rows, rows[-1].id if more else None)


def templates_in_use() -> list[str]:
    stmt = sa.select(OutboxEmail.template).distinct().order_by(OutboxEmail.template)
    return list(db.session.scalars(stmt))


@bp.get("/emails")
@admin_required
def emails() -> ResponseReturnValue:
    """Filter by ?status= and ?template=; ?after= carries the cursor to the next page."""
    status = request.args.get("status") or None
    template = request.args.get("template") or None
    page = find_emails(status, template, bounded_int(request.args.get("after")))
    return render_template(
        "dashboard/emails.html",
        page=page,
        statuses=STATUSES,
        templates=templates_in_use(),
        selected_status=status,
        selected_template=template,
        bodies_viewable=bodies_viewable(),
    )


@bp.get("/emails/<int:email_id>")
@admin_required
def emails_detail(email_id: int) -> ResponseReturnValue:
    """One email's state and, in development, its text and HTML (a PII view: audit-logged)."""
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        abort(404)
    rendered: Rendered | None = None
    problem = None
    if bodies_viewable():
        try:
            rendered = render(email, preview=True)
        except UnknownTemplate:
            problem = f"No template named {email.template!r} in this version."
        record("email.view", "outbox_email", email.id)
        db.session.commit()
    page = render_template(
        "dashboard/emails_detail.html",
        email=email,
        rendered=rendered,
        problem=problem,
        bodies_viewable=bodies_viewable(),
    )
    # The email's HTML, in a sandboxed frame, inherits this page's policy: its inline styles
    # (what email clients read) need 'unsafe-inline'; the frame still runs no script.
    policy = page_policy(current_app.config, style_src=("'unsafe-inline'",))
    return page, {"Content-Security-Policy": policy}
