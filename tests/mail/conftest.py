"""Mail test fixtures: an SMTP sink on a free local port, and the webhook and staff fixtures."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.dashboard.conftest import admin, admin_client, viewer, viewer_client  # noqa: F401
from tests.mail.smtp_sink import Sink, SinkServer
from tests.webhooks.conftest import checkout, sandbox  # noqa: F401


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    """(sink, port): a real SMTP server in a thread that keeps what it receives."""
    sink = Sink()
    server = SinkServer(sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sink, server.port
    server.shutdown()
    server.server_close()


def smtp_config(port: int) -> dict[str, object]:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_TIMEOUT": 5,
        "MAIL_DEFAULT_SENDER": "members@gazette.example",
    }
