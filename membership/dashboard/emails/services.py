"""The outbox for staff: every email, keyset-paged; one email's text, while no mail is sent.

Bodies are shown only while the app delivers no mail (no MAIL_SERVER): there the outbox is
the only place a developer or a demo can read them. With real delivery, staff see status
only, so a receipt's contents stay between the newsroom's mail server and the donor.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from membership.dashboard.audit.services import record
from membership.extensions import db
from membership.mail.render import Rendered, UnknownTemplate, render
from membership.models import OutboxEmail, OutboxStatus

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


@dataclass(frozen=True)
class EmailDetail:
    email: OutboxEmail
    rendered: Rendered | None  # its text and HTML, while bodies are viewable
    problem: str | None  # why it could not be rendered


def email_detail(email_id: int) -> EmailDetail | None:
    """One email; while bodies are viewable, rendered again and the look audit-logged
    (committed). None when there is no such email."""
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        return None
    rendered: Rendered | None = None
    problem = None
    if bodies_viewable():
        try:
            rendered = render(email, preview=True)
        except UnknownTemplate:
            problem = f"No template named {email.template!r} in this version."
        record("email.view", "outbox_email", email.id)
        db.session.commit()
    return EmailDetail(email, rendered, problem)
