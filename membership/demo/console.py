"""Lines for the person at the keyboard in demo mode: where to start, and each email's link.

They go to stderr as plain text, never through logging: the JSON log must hold no addresses
or sign-in links (logs.py), while someone trying the demo needs both to read their email.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import run_command
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session, object_session
from werkzeug.serving import is_running_from_reloader

from membership.extensions import db
from membership.models import OutboxEmail

PENDING = "demo_console_lines"  # Session.info key: lines waiting for their transaction's commit
TEST_CARD = "4242 4242 4242 4242"


def startup_lines(config: Mapping[str, Any], url: str) -> list[str]:
    """What a server in demo mode says first: where to give, sign in as staff, read emails."""
    url = url.rstrip("/")
    lines = [
        f"Demo mode: no real money moves. Open {url}/ and give with the test card {TEST_CARD}.",
        f"  Staff: sign in at {url}/staff/login (an admin first: make admin EMAIL=you@example.org)",
        f"  Emails: none is sent; read them in the demo mailbox, {url}/sandbox/mailbox"
        if config.get("DEMO_MAILBOX")
        else "  Emails: sent through MAIL_SERVER",
    ]
    base_url = str(config["BASE_URL"]).rstrip("/")
    if base_url != url:
        lines.append(
            f"  BASE_URL is {base_url}: links in emails and Checkout's return lead there, "
            "not to this server (make run derives it from HOST and PORT)"
        )
    return lines


def announce(config: Mapping[str, Any], url: str) -> None:
    click.echo("\n".join(startup_lines(config, url)), err=True)


def serving(app: Flask) -> None:
    """This process serves the app: its emails go to the console too (not other commands')."""
    if app.config.get("DEMO_MAILBOX"):
        echo_new_emails(app)


def when_serving(app: Flask) -> None:
    """Under `flask run` (`make run`): say where to go once, not in the reloader's child (which
    serves, so it echoes the emails); not for any other `flask` command."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.command is not run_command:
        return
    serving(app)
    if not is_running_from_reloader():
        scheme = "https" if ctx.params.get("cert") else "http"
        host = browsable(str(ctx.params["host"]))
        announce(app.config, f"{scheme}://{host}:{ctx.params['port']}")


def worker_started(app: Any, addresses: Sequence[str], first: bool) -> None:
    """Under gunicorn (gunicorn.conf.py): every worker echoes its emails, the first one says
    where to go (the app is loaded in workers, so they read its real config)."""
    config = getattr(app, "config", {})
    if not config.get("DEMO_MODE"):
        return
    serving(app)
    if not first:
        return
    urls = [address for address in addresses if address.startswith("http")]
    if not urls:  # a unix socket: a proxy in front serves BASE_URL
        announce(config, str(config["BASE_URL"]))
        return
    scheme, _, rest = urls[0].partition("://")
    host, _, port = rest.rpartition(":")
    announce(config, f"{scheme}://{browsable(host.strip('[]'))}:{port}")


def browsable(host: str) -> str:
    """A server on every address is opened through the loopback one."""
    if host in ("0.0.0.0", "", "::"):  # noqa: S104  (naming the wildcard, not binding it)
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def echo_new_emails(app: Flask) -> None:
    """From now on, one console line per email the app's transactions commit to the outbox."""
    app.extensions["demo_console"] = True
    if event.contains(OutboxEmail, "after_insert", inserted):
        return  # listening already, for every app this process builds
    # Emails come two ways: the ORM's flush (sign-in links, outbox.enqueue), and webhooks'
    # one-statement insert (members.insert_unique), which then adds the row to the session.
    event.listen(OutboxEmail, "after_insert", inserted)
    event.listen(db.session, "detached_to_persistent", added)
    event.listen(db.session, "after_commit", echo_noted)
    event.listen(db.session, "after_rollback", forget_noted)


def email_line(email: OutboxEmail, base_url: str) -> str:
    """A sign-in link as it is in the email, any other email's page in the mailbox; never
    the address (stderr is the log under gunicorn)."""
    link = (email.context or {}).get("link") or f"{base_url}/sandbox/mailbox/{email.id}"
    return f"Email #{email.id} ({email.template}): {link}"  # the address stays out of output


def inserted(_mapper: Mapper[Any], _connection: Connection, email: OutboxEmail) -> None:
    session = object_session(email)
    if session is not None:
        note(session, email)


def added(session: Session, row: object) -> None:
    if isinstance(row, OutboxEmail):
        note(session, row)


def note(session: Session, email: OutboxEmail) -> None:
    """Keep the email's line until its transaction commits: a rolled-back email never was."""
    if has_app_context() and current_app.extensions.get("demo_console"):
        line = email_line(email, str(current_app.config["BASE_URL"]).rstrip("/"))
        session.info.setdefault(PENDING, []).append(line)


def echo_noted(session: Session) -> None:
    for line in session.info.pop(PENDING, ()):
        click.echo(line, err=True)


def forget_noted(session: Session) -> None:
    session.info.pop(PENDING, None)
