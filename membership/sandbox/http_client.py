"""The stripe library's own requests client, its requests answered by the sandbox in-process.

A requests transport adapter (requests' documented extension point, mounted on a Session)
hands each request to the sandbox's WSGI app instead of a socket: the library builds, signs,
retries and parses exactly as it does against Stripe, with no network and no port.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client

# Where the library sends the sandbox's requests: a name that resolves nowhere, so a
# request that ever left the process would fail instead of reaching a real host.
SANDBOX_BASE = "http://sandbox.stripe.invalid"


class WSGIAdapter(BaseAdapter):
    """Answers every request sent through it from a WSGI app; counts them (`sent`)."""

    def __init__(self, wsgi_app: Any) -> None:
        super().__init__()
        self.wsgi_app = wsgi_app
        self.sent = 0

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        self.sent += 1
        parts = urlsplit(request.url or "")
        answer = Client(self.wsgi_app).open(
            parts.path,
            method=request.method or "GET",
            query_string=parts.query,
            headers=dict(request.headers),
            data=request.body,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response.raw = io.BytesIO(answer.get_data())
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        """Nothing to close: there is no connection."""


def session_for(wsgi_app: Any) -> tuple[requests.Session, WSGIAdapter]:
    """A requests Session whose requests to SANDBOX_BASE go to the app."""
    session = requests.Session()
    session.trust_env = False  # no proxy or netrc settings apply to an in-process call
    adapter = WSGIAdapter(wsgi_app)
    session.mount(SANDBOX_BASE, adapter)
    return session, adapter
