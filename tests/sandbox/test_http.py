"""The sandbox over a real socket: the stripe library's default HTTP client, unchanged."""

from __future__ import annotations

import threading

import pytest
from stripe import StripeClient
from werkzeug.serving import make_server

from membership.sandbox import SANDBOX_API_KEY, Sandbox


@pytest.fixture
def served_sandbox():
    sandbox = Sandbox()
    server = make_server("127.0.0.1", 0, sandbox.wsgi_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sandbox, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_real_http_round_trip_with_idempotency(served_sandbox):
    sandbox, base = served_sandbox
    client = StripeClient(SANDBOX_API_KEY, base_addresses={"api": base}, max_network_retries=0)
    options = {"idempotency_key": "over-the-wire"}
    first = client.v1.customers.create(params={"email": "wire@example.com"}, options=options)
    again = client.v1.customers.create(params={"email": "wire@example.com"}, options=options)
    assert first.id == again.id
    assert client.v1.customers.retrieve(first.id).email == "wire@example.com"
    assert sandbox.event_types() == ["customer.created"]
