"""The sandbox over a real socket: the stripe library's default HTTP client, and the service's."""

from __future__ import annotations

import runpy
import threading
from pathlib import Path

import pytest
import stripe
from flask import Flask
from stripe import StripeClient
from werkzeug.serving import make_server

from membership import stripe_api
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


def test_the_services_client_reads_plain_json_over_http(served_sandbox):
    sandbox, base = served_sandbox
    app = Flask(__name__)
    config = {"STRIPE_SECRET_KEY": SANDBOX_API_KEY, "STRIPE_API_BASE": base}
    app.extensions["stripe_client"] = stripe_api.build_client(config)
    customer = sandbox.client().v1.customers.create(params={"email": "json@example.com"})
    with app.app_context():
        found = stripe_api.retrieve_customer(customer.id)
        assert not isinstance(found, stripe.StripeObject) and found["email"] == "json@example.com"
        with pytest.raises(stripe.InvalidRequestError) as missing:
            stripe_api.retrieve_customer("cus_nobody")
    assert missing.value.http_status == 404


def test_the_services_client_reads_proxy_settings_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    to_stripe = stripe_api.http_client("https://api.stripe.com")
    to_stand_in = stripe_api.http_client("http://127.0.0.1:12111")
    assert to_stripe._proxy == {"https": "http://proxy.example:3128"}
    assert to_stand_in._proxy is None
    # Not read again per request: requests would scan os.environ before each one.
    assert to_stripe._session.trust_env is False
    # A kept connection for every thread of a gunicorn worker (gunicorn.conf.py).
    adapter = to_stripe._session.get_adapter("https://api.stripe.com/v1/customers")
    assert adapter._pool_maxsize == stripe_api.KEPT_CONNECTIONS >= gunicorn_threads()


def gunicorn_threads() -> int:
    return int(runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))["threads"])
