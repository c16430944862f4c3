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


def test_the_services_client_is_the_librarys_own_with_one_pool_for_all_threads():
    assert isinstance(stripe_api.http_client(), stripe.RequestsClient)
    # One Session, so every thread of a worker draws on the same kept connections: at least
    # one for each of its threads (gunicorn.conf.py).
    adapter = stripe_api.stripe_session().get_adapter("https://api.stripe.com")
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == stripe_api.KEPT_CONNECTIONS
    assert gunicorn_threads() <= stripe_api.KEPT_CONNECTIONS


def test_a_refused_connection_is_a_connection_error_worth_retrying():
    client = stripe_api.http_client()
    with pytest.raises(stripe.APIConnectionError) as refused:
        client.request("get", "http://127.0.0.1:9/v1/customers/cus_x", {})
    assert refused.value.should_retry is True


def test_a_certificate_not_signed_for_stripe_is_refused_and_not_retried(tmp_path):
    certificate = self_signed_certificate(tmp_path)
    server = make_server("127.0.0.1", 0, Sandbox().wsgi_app(), ssl_context=certificate)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"https://127.0.0.1:{server.server_port}"
    try:
        with pytest.raises(stripe.APIConnectionError) as refused:
            stripe_api.http_client().request("get", f"{base}/v1/customers/cus_x", {})
    finally:
        server.shutdown()
        thread.join()
    assert refused.value.should_retry is False


def gunicorn_threads() -> int:
    return int(runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))["threads"])
