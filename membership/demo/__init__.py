"""Demo mode for the person at the keyboard: the demo mailbox and what the console tells them.

In demo mode (stripe_api.demo_mode: no Stripe key, never in production) without MAIL_SERVER,
nothing the service writes reaches an inbox. /sandbox/mailbox shows it instead, and a
server's terminal gets a line saying where to go as it starts, then a line per email with its
link (other `flask` commands keep their output to themselves). With MAIL_SERVER set, emails
are really sent: no mailbox, no email lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from membership.demo import console, mailbox
from membership.stripe_api import demo_mode


def mailbox_enabled(config: Mapping[str, Any]) -> bool:
    return demo_mode(config) and not config.get("MAIL_SERVER")


def init_app(app: Flask) -> None:
    """After stripe_api.init_app: serve the mailbox and talk to the console, in demo mode only."""
    app.config["DEMO_MAILBOX"] = bool(app.config.get("DEMO_MODE")) and mailbox_enabled(app.config)
    if app.config["DEMO_MAILBOX"]:
        app.register_blueprint(mailbox.bp)  # /sandbox/mailbox: a 404 everywhere else
    if app.config.get("DEMO_MODE"):
        console.when_serving(app)
