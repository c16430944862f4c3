"""Where rendered emails go: an SMTP server, or (without MAIL_SERVER) the log and the outbox."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import Any, Protocol

from membership.mail.render import Rendered
from membership.models import OutboxEmail

log = logging.getLogger("membership.mail")


class Transport(Protocol):
    def deliver(self, email: OutboxEmail, rendered: Rendered) -> None: ...

    def close(self) -> None: ...


def build_message(email: OutboxEmail, rendered: Rendered, sender: str) -> EmailMessage:
    """A multipart/alternative message: plain text first, HTML for the clients that want it."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = email.to_address or ""
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    # The same id on a resend after a crash, so mail clients can fold the duplicate away.
    created = int(email.created_at.timestamp()) if email.created_at else 0
    message["Message-ID"] = f"<outbox.{email.id}.{created}@{domain}>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


class LogTransport:
    """Development and demo: one log line per email (ids only), the email stays in the outbox."""

    def deliver(self, email: OutboxEmail, rendered: Rendered) -> None:
        fields = {"outbox_id": email.id, "template": email.template, "locale": email.locale}
        log.info("email kept in the outbox (no MAIL_SERVER)", extra={"fields": fields})

    def close(self) -> None:
        pass


class SMTPTransport:
    """One connection per sending pass, opened on the first email and reopened after an error."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        if self.connection is None:
            c = self.config
            connection = smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT"])
            try:
                if c.get("MAIL_USE_TLS"):
                    connection.starttls(context=ssl.create_default_context())
                if c.get("MAIL_USERNAME"):
                    connection.login(c["MAIL_USERNAME"], c.get("MAIL_PASSWORD") or "")
            except BaseException:
                connection.close()
                raise
            self.connection = connection
        return self.connection

    def deliver(self, email: OutboxEmail, rendered: Rendered) -> None:
        message = build_message(email, rendered, self.config["MAIL_DEFAULT_SENDER"])
        try:
            self.connect().send_message(message)
        except BaseException:
            self.close()  # the connection's state is unknown: start afresh for the next email
            raise

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


def transport_for(config: Mapping[str, Any]) -> Transport:
    return SMTPTransport(config) if config.get("MAIL_SERVER") else LogTransport()
