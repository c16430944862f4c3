"""/sandbox/mailbox: every email the service would send, readable in demo mode without SMTP.

Nothing sends the outbox in the web process (`flask outbox send` is a separate worker), so
the mailbox reads OutboxEmail rows and renders them as the sender would, links included: a
sign-in link here signs its donor in. The blueprint exists only in demo mode without
MAIL_SERVER (demo.init_app), so these routes are a 404 in production, with Stripe keys, or
with real mail: anyone who can reach a demo can read its mail, which is made-up mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from membership.extensions import db
from membership.input_guard import bounded_int
from membership.mail.render import Rendered, render
from membership.models import Member, OutboxEmail

bp = Blueprint("mailbox", __name__, url_prefix="/sandbox/mailbox")
PAGE_SIZE = 50
# http(s) links in an email's text, without the full stop or bracket that may end a sentence.
LINK = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")


@dataclass(frozen=True)
class Entry:
    email: OutboxEmail
    to: str | None
    subject: str | None  # None when the row cannot be rendered (an erased donor's, say)

    @property
    def received(self) -> datetime:
        return self.email.created_at


def recipient(email: OutboxEmail) -> str | None:
    """The address it went to; the sender clears the row's copy once sent, the member keeps it."""
    if email.to_address:
        return email.to_address
    member = db.session.get(Member, email.member_id) if email.member_id else None
    return member.email if member is not None else None


def try_render(email: OutboxEmail, preview: bool) -> Rendered | None:
    try:
        return render(email, preview=preview)
    except (LookupError, TypeError, ValueError):  # an unknown template, an erased context
        return None


def newest(before: int | None) -> tuple[list[Entry], int | None]:
    """A page of entries, newest first, and the id to continue before, if there are more."""
    stmt = sa.select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(PAGE_SIZE + 1)
    if before:
        stmt = stmt.where(OutboxEmail.id < before)
    rows = list(db.session.scalars(stmt))
    shown = rows[:PAGE_SIZE]
    # A preview for the subject: rendering for real would mint a sign-in link in some emails.
    entries = [Entry(e, recipient(e), getattr(try_render(e, True), "subject", None)) for e in shown]
    return entries, shown[-1].id if len(rows) > PAGE_SIZE else None


def linkify(text: str) -> Markup:
    """The plain-text email, escaped, with its links clickable (http and https only)."""
    parts: list[Markup] = []
    end = 0
    for match in LINK.finditer(text):
        parts.append(escape(text[end : match.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(match.group()))
        end = match.end()
    parts.append(escape(text[end:]))
    return Markup("").join(parts)


@bp.after_request
def private(response: Response) -> Response:
    """Its pages hold working sign-in links: never cached, never sent on as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.get("")
def index() -> ResponseReturnValue:
    entries, more_before = newest(bounded_int(request.args.get("before")))
    return render_template("demo/mailbox/index.html", entries=entries, more_before=more_before)


@bp.get("/<int:email_id>")
def message(email_id: int) -> ResponseReturnValue:
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        abort(404)
    rendered = try_render(email, preview=False)
    # A failed-payment email mints its card link as it renders (a nonce on the member): keep
    # it, as the sender's commit would, so the link shown works.
    db.session.commit()
    return render_template(
        "demo/mailbox/email.html",
        entry=Entry(email, recipient(email), rendered.subject if rendered else None),
        body=linkify(rendered.text) if rendered else None,
    )
