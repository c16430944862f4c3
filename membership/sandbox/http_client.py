"""A `stripe.HTTPClient` that hands requests straight to the sandbox's WSGI app, no sockets."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import stripe
from werkzeug.test import Client


class InProcessHTTPClient(stripe.HTTPClient):
    """Real requests from the real library, answered in-process by the sandbox."""

    name = "sandbox-in-process"

    def __init__(self, wsgi_app: Any) -> None:
        super().__init__()
        self._wsgi_app = wsgi_app

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        body, status, response_headers = self._open(method, url, headers, post_data)
        return body.decode("utf-8"), status, response_headers

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        body, status, response_headers = self._open(method, url, headers, post_data)
        return io.BytesIO(body), status, response_headers

    def _open(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any
    ) -> tuple[bytes, int, dict[str, str]]:
        parts = urlsplit(url)
        response = Client(self._wsgi_app).open(
            parts.path,
            method=method.upper(),
            query_string=parts.query,
            headers=dict(headers or {}),
            data=post_data,
        )
        lowered = {k.lower(): v for k, v in response.headers.items()}
        return response.get_data(), response.status_code, lowered

    def close(self) -> None:
        """Nothing to close: there is no connection."""
