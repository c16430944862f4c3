"""Two senders at once on PostgreSQL: every email is sent exactly once (row locks, SKIP LOCKED)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from membership.extensions import db
from membership.mail.sender import send_due
from membership.mail.transport import SMTPTransport
from membership.models import OutboxEmail, OutboxStatus
from tests.factories import make_member
from tests.mail.conftest import smtp_config
from tests.webhooks.conftest import rows

pytestmark = pytest.mark.usefixtures("app_context")

EMAILS = 50


def test_two_senders_send_each_email_once(app, backend, smtp) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no row locks or concurrent writers: the race needs PostgreSQL")
    sink, port = smtp
    app.config.update(smtp_config(port))
    for n in range(EMAILS):
        member = make_member(email=f"reader{n}@example.org")
        db.session.add(
            OutboxEmail(
                member_id=member.id,
                to_address=member.email,
                template="receipt",
                dedupe_key=f"race:{n}",
                context={"amount": 500 + n, "currency": "EUR"},
            )
        )
    db.session.commit()

    start = threading.Barrier(2)
    results: list[Counter[str]] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with app.app_context():
                start.wait()
                results.append(send_due(EMAILS * 2, transport=SMTPTransport(app.config)))
                db.session.remove()
        except BaseException as exc:  # reported below: a thread's exception would vanish
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sum(result["sent"] for result in results) == EMAILS
    recipients = Counter(r for message in sink.messages for r in message.recipients)
    assert len(sink.messages) == EMAILS
    assert set(recipients.values()) == {1}
    emails = rows(OutboxEmail)
    assert {(e.status, e.attempts) for e in emails} == {(OutboxStatus.SENT, 1)}
