"""`flask outbox send`: delivery over real SMTP, retries on a schedule, and the development log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from membership.extensions import db
from membership.logs import JsonFormatter
from membership.mail.sender import BACKOFF, send_due
from membership.models import OutboxEmail, OutboxStatus
from tests.factories import make_member
from tests.mail.conftest import smtp_config
from tests.webhooks.conftest import one

pytestmark = pytest.mark.usefixtures("app_context")

ADDRESS = "private.reader@example.org"


def at(moment: datetime) -> Callable[[], datetime]:
    """A clock stopped at `moment`: the schedule is tested without waiting for it."""
    return lambda: moment


def queue(template: str = "receipt", locale: str = "en", **context) -> OutboxEmail:
    member = make_member(email=ADDRESS, locale=locale)
    email = OutboxEmail(
        member_id=member.id,
        to_address=ADDRESS,
        template=template,
        locale=locale,
        dedupe_key=f"test:{template}:{locale}",
        context={"amount": 1000, "currency": "USD"} | context,
    )
    db.session.add(email)
    db.session.commit()
    return email


def test_send_delivers_over_smtp_and_forgets_the_address(app, runner, smtp) -> None:
    sink, port = smtp
    app.config.update(smtp_config(port))
    queue(locale="ru")

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent: 1 retry: 0 failed: 0"
    [received] = sink.messages
    assert received.recipients == [ADDRESS]
    message = received.message
    assert message["To"] == ADDRESS
    assert message["From"] == "members@gazette.example"
    assert message["Subject"] == "Спасибо за поддержку издания The Test Gazette"
    assert message["Message-ID"].startswith("<outbox.")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "10,00" in text and '<html lang="ru">' in html

    sent = one(OutboxEmail)
    assert sent.status == OutboxStatus.SENT and sent.sent_at is not None
    assert sent.attempts == 1 and sent.last_error is None
    assert sent.to_address is None  # kept only until sent

    assert runner.invoke(args=["outbox", "send"]).output.strip() == "sent: 0 retry: 0 failed: 0"
    assert len(sink.messages) == 1


def test_a_refusing_server_means_retries_on_a_schedule_then_failed(app, smtp) -> None:
    sink, port = smtp
    app.config.update(smtp_config(port))
    sink.refuse = True
    email = queue()
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    email.next_attempt_at = now
    db.session.commit()

    for attempt, wait in enumerate(BACKOFF, start=1):
        assert send_due(10, clock=at(now)) == {"retry": 1}
        db.session.expire_all()
        assert (email.status, email.attempts) == (OutboxStatus.PENDING, attempt)
        assert email.next_attempt_at == now + wait
        assert email.last_error == "SMTPSenderRefused 451"
        assert send_due(10, clock=at(now + wait - timedelta(seconds=1))) == {}  # not yet due
        now += wait

    assert send_due(10, clock=at(now)) == {"failed": 1}
    db.session.expire_all()
    assert (email.status, email.attempts) == (OutboxStatus.FAILED, len(BACKOFF) + 1)
    assert send_due(10, clock=at(now + timedelta(days=30))) == {}
    assert sink.messages == []


def test_a_retry_succeeds_once_the_server_takes_mail_again(app, smtp) -> None:
    sink, port = smtp
    app.config.update(smtp_config(port))
    sink.refuse = True
    email = queue()
    assert send_due(10) == {"retry": 1}
    sink.refuse = False
    assert send_due(10, clock=lambda: datetime.now(UTC) + BACKOFF[0]) == {"sent": 1}
    db.session.expire_all()
    assert (email.status, email.attempts, email.last_error) == (OutboxStatus.SENT, 2, None)
    assert len(sink.messages) == 1


def test_an_unreachable_server_is_retried(app) -> None:
    app.config.update(smtp_config(1))  # nothing listens on port 1
    email = queue()
    assert send_due(10) == {"retry": 1}
    db.session.expire_all()
    assert email.last_error.startswith("ConnectionRefusedError")


def test_no_address_fails_at_once(app) -> None:
    email = queue()
    email.to_address = None
    db.session.commit()
    assert send_due(10) == {"failed": 1}
    db.session.expire_all()
    assert (email.status, email.last_error) == (OutboxStatus.FAILED, "NoAddress")


def test_development_logs_ids_only_and_keeps_the_email(app, runner, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    email = queue(template="magic_link", link="http://localhost/account/sign-in/SECRET", minutes=30)
    result = runner.invoke(args=["outbox", "send"])
    assert result.output.strip() == "sent: 1 retry: 0 failed: 0"
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any(f'"outbox_id": {email.id}' in line for line in lines)
    assert not [line for line in lines if "private.reader" in line or "example.org" in line]
    assert not [line for line in lines if "SECRET" in line]
    db.session.expire_all()
    assert email.status == OutboxStatus.SENT
    assert "link" not in email.context  # a sign-in link is a credential: not kept once sent


def test_send_forever_stops_after_max_loops(app, runner) -> None:
    queue()
    result = runner.invoke(args=["outbox", "send", "--forever", "--max-loops", "1", "--poll", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent: 1 retry: 0 failed: 0"
