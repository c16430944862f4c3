"""Sandbox fixtures: a fresh sandbox, a real StripeClient on it, and captured webhooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from stripe import StripeClient

from membership.sandbox import Sandbox

START = 1_800_000_000  # a fixed clock start keeps periods and ids reproducible
WEBHOOK_SECRET = "whsec_test_sandbox_suite"


class Inbox:
    """A webhook receiver that records what it gets and answers a chosen status."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.status = 200

    def __call__(self, payload: bytes, headers: dict[str, str]) -> int:
        self.received.append((payload, headers))
        return self.status

    def types(self) -> list[str]:
        import json

        return [json.loads(body)["type"] for body, _ in self.received]


@pytest.fixture
def webhook_secret() -> str:
    return WEBHOOK_SECRET


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture(params=["memory", "file"])
def sandbox(
    request: pytest.FixtureRequest, inbox: Inbox, webhook_secret: str, tmp_path: Path
) -> Iterator[Sandbox]:
    """Every sandbox test runs on both stores; on a file, each test ends by checking that a
    new process opening the file would see exactly what this one sees."""
    path = str(tmp_path / "stripe-sandbox.db") if request.param == "file" else None
    sandbox = Sandbox(
        webhook_secret=webhook_secret, webhook_target=inbox, start_time=START, path=path
    )
    yield sandbox
    if path is not None:
        assert state(Sandbox(path=path, start_time=START)) == state(sandbox)


def state(sandbox: Sandbox) -> dict[str, Any]:
    store = sandbox.store
    with store.lock:
        return {
            "objects": store.objects,
            "order": [e["id"] for e in store.events],
            "now": store.now,
            "undelivered": store.undelivered,
            "idempotency": store.idempotency,
        }


@pytest.fixture
def stripe_client(sandbox: Sandbox) -> StripeClient:
    return sandbox.client()


def _line(amount: int = 1500, currency: str = "usd", interval: str | None = None) -> dict[str, Any]:
    price_data: dict[str, Any] = {
        "currency": currency,
        "unit_amount": amount,
        "product_data": {"name": "Support independent reporting"},
    }
    if interval:
        price_data["recurring"] = {"interval": interval}
    return {"quantity": 1, "price_data": price_data}


def _session_params(mode: str = "payment", **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": mode,
        "success_url": "https://news.example/thanks?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://news.example/support",
        "line_items": [_line(interval="month" if mode == "subscription" else None)],
    }
    if mode == "payment":
        params["submit_type"] = "donate"
    return params | overrides


@pytest.fixture
def open_session(stripe_client: StripeClient) -> Callable[..., Any]:
    """Create a Checkout Session the way the service does, through the real library."""

    def create(mode: str = "payment", **overrides: Any) -> Any:
        return stripe_client.v1.checkout.sessions.create(params=_session_params(mode, **overrides))

    return create


@pytest.fixture
def line_item() -> Callable[..., dict[str, Any]]:
    return _line
