"""The sandbox over a real socket: the stripe library's default HTTP client, and the service's."""

from __future__ import annotations

import runpy
import threading
from pathlib import Path

import pytest
import stripe
import urllib3
from flask import Flask
from stripe import StripeClient
from werkzeug.serving import make_server

from membership import stripe_api
from membership.sandbox import SANDBOX_API_KEY, Sandbox
from tests.conftest import self_signed_certificate


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
    # Read now, not before each request: the pool goes through the proxy or it does not.
    assert isinstance(to_stripe.pool, urllib3.ProxyManager)
    assert to_stripe.pool.proxy.url == "http://proxy.example:3128"
    assert not isinstance(to_stand_in.pool, urllib3.ProxyManager) and to_stand_in.proxy_url is None
    # Certificates checked against the stripe library's bundle; the library does the retries.
    settings = to_stripe.pool.connection_pool_kw
    assert (
        settings["cert_reqs"] == "CERT_REQUIRED" and settings["ca_certs"] == stripe.ca_bundle_path
    )
    assert settings["retries"].total is False
    # A kept connection for every thread of a gunicorn worker (gunicorn.conf.py).
    assert settings["maxsize"] == stripe_api.KEPT_CONNECTIONS >= gunicorn_threads()


def test_a_refused_connection_is_a_connection_error_worth_retrying():
    client = stripe_api.http_client("http://127.0.0.1:9")
    with pytest.raises(stripe.APIConnectionError) as refused:
        client.request("get", "http://127.0.0.1:9/v1/customers/cus_x", {})
    assert refused.value.should_retry is True
    assert "Could not reach Stripe" in str(refused.value)


def test_a_certificate_not_signed_for_stripe_is_refused_and_not_retried(tmp_path):
    certificate = self_signed_certificate(tmp_path)
    server = make_server("127.0.0.1", 0, Sandbox().wsgi_app(), ssl_context=certificate)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"https://127.0.0.1:{server.server_port}"
    try:
        with pytest.raises(stripe.APIConnectionError) as refused:
            stripe_api.http_client(base).request("get", f"{base}/v1/customers/cus_x", {})
    finally:
        server.shutdown()
        thread.join()
    assert refused.value.should_retry is False
    assert "Could not verify Stripe's certificate" in str(refused.value)


def gunicorn_threads() -> int:
    return int(runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))["threads"])
