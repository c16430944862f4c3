"""Draining the outbox: claim one due email at a time, send it, record the outcome.

Delivery is exactly-once between concurrent senders and at-least-once across crashes. Each
email is claimed with SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL) and marked sent in the
same transaction, so a second sender skips it, and a sender that dies after the SMTP server
took the email but before the commit leaves it pending: it is sent again later (with the
same Message-ID). A duplicate receipt is the lesser harm than a lost one.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from membership.extensions import db
from membership.mail.render import render
from membership.mail.templates import SECRET_KEYS
from membership.mail.transport import Transport, transport_for
from membership.models import OutboxEmail, OutboxStatus

log = logging.getLogger("membership.mail")
# Waits before the 2nd, 3rd ... attempt; after the last one fails, the email is given up.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)


class NoAddress(Exception):
    """The member was erased (or never had an address): there is no one to write to."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def send_due(
    limit: int,
    transport: Transport | None = None,
    clock: Callable[[], datetime] = utcnow,
    stop: Callable[[], bool] = lambda: False,
) -> Counter[str]:
    """Send up to `limit` due emails; count them by outcome ("sent", "retry", "failed")."""
    transport = transport or transport_for(current_app.config)
    outcomes: Counter[str] = Counter()
    try:
        while sum(outcomes.values()) < limit and not stop():
            outcome = send_next(transport, clock())
            if outcome is None:
                break
            outcomes[outcome] += 1
    finally:
        transport.close()
    return outcomes


def send_next(transport: Transport, now: datetime) -> str | None:
    """Claim, send and settle one email in one transaction; None when nothing is due."""
    email = claim(now)
    if email is None:
        db.session.rollback()
        return None
    try:
        if not email.to_address:
            raise NoAddress
        rendered = render(email)
        transport.deliver(email, rendered)
        email.locale = rendered.locale  # the language it went out in
    except Exception as exc:  # any failure is this email's, retried on a schedule
        outcome = record_failure(email, exc, now)
    else:
        outcome = record_sent(email, now)
    db.session.commit()
    return outcome


def due(now: datetime) -> list:
    return [OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now]


def claim(now: datetime) -> OutboxEmail | None:
    """The next due email, locked until this transaction ends: other senders skip it."""
    email = db.session.scalar(
        select(OutboxEmail)
        .where(*due(now))
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if email is None or db.session.get_bind().dialect.name != "sqlite":
        return email
    # SQLite has no row locks (FOR UPDATE is dropped): a guarded write takes the database's
    # write lock and re-checks the row, so a second sender waits, or finds it already sent.
    try:
        taken = db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email.id, *due(now))
            .values(attempts=OutboxEmail.attempts)
            .execution_options(synchronize_session=False)
        )
    except OperationalError:  # "database is locked": another sender is busy; come back later
        db.session.rollback()
        return None
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return None
    db.session.refresh(email)
    return email


def record_sent(email: OutboxEmail, now: datetime) -> str:
    """Sent: keep what staff may look at, drop what was only needed to send it."""
    email.status = OutboxStatus.SENT
    email.sent_at = now
    email.attempts += 1
    email.last_error = None
    email.to_address = None  # the member row has it; the outbox need not keep a copy
    if any(key in (email.context or {}) for key in SECRET_KEYS):
        email.context = {k: v for k, v in email.context.items() if k not in SECRET_KEYS}
    log.info("email sent", extra={"fields": log_fields(email)})
    return "sent"


def record_failure(email: OutboxEmail, exc: Exception, now: datetime) -> str:
    """Try again after the next wait in BACKOFF, or give up once the schedule is used up."""
    email.attempts += 1
    email.last_error = describe(exc, email.to_address)
    if isinstance(exc, NoAddress) or email.attempts > len(BACKOFF):
        email.status = OutboxStatus.FAILED
        outcome = "failed"
    else:
        email.next_attempt_at = now + BACKOFF[email.attempts - 1]
        outcome = "retry"
    fields = log_fields(email) | {"error": email.last_error, "outcome": outcome}
    log.warning("email not sent", extra={"fields": fields})
    return outcome


def describe(exc: Exception, address: str | None) -> str:
    """The error for last_error and the log, without the recipient's address.

    SMTP replies often quote the address (in any case), so only their codes are kept.
    """
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _text in exc.recipients.values()})
        return f"{name} {','.join(codes)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name} {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPException):
        return name
    text = str(exc)
    if address:
        text = text.replace(address, "<recipient>")
    return f"{name}: {text[:300]}" if text else name


def log_fields(email: OutboxEmail) -> dict[str, object]:
    return {"outbox_id": email.id, "template": email.template, "attempts": email.attempts}
