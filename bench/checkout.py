"""Checkout creation: our own time per form submission, the Stripe stand-in's time taken out."""

from __future__ import annotations

import statistics
import time
from typing import Any

import requests
import stripe

from bench.results import Row
from membership import create_app, sandbox
from membership.config import DevelopmentConfig
from membership.sandbox.http_client import SANDBOX_BASE, WSGIAdapter

REQUESTS = 300


class TimedAdapter(WSGIAdapter):
    """The sandbox's in-process transport, adding up the time spent answering as Stripe."""

    spent = 0.0

    def send(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return super().send(*args, **kwargs)
        finally:
            TimedAdapter.spent += time.perf_counter() - started


def creation(database_url: str) -> list[Row]:
    config = type(
        "BenchConfig",
        (DevelopmentConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STRIPE_SECRET_KEY": None,
            "WTF_CSRF_ENABLED": False,
            "CHECKOUT_RATE_LIMIT": "1000000 per minute",
            "CHECKOUT_GLOBAL_RATE_LIMIT": "1000000 per minute",
            "LOG_LEVEL": "WARNING",
            "SANDBOX_STATE": "memory",
        },
    )
    app = create_app(config)
    fake = sandbox.of(app)
    assert fake is not None, "demo mode: no Stripe key"
    session = requests.Session()
    session.mount(SANDBOX_BASE, TimedAdapter(fake.wsgi_app()))
    app.extensions["stripe_client"] = stripe.StripeClient(
        "sk_test_sandbox_not_a_real_key",
        base_addresses={"api": SANDBOX_BASE},
        http_client=stripe.RequestsClient(session=session),
        max_network_retries=0,
    )
    client = app.test_client()
    ours = []
    for n in range(REQUESTS + 20):
        form = {
            "frequency": "month" if n % 2 else "one_off",
            "amount": "10",
            "currency": "EUR",
            "submission": f"{n:032x}",
        }
        TimedAdapter.spent = 0.0
        started = time.perf_counter()
        response = client.post("/give", data=form)
        elapsed = time.perf_counter() - started
        assert response.status_code == 303, response.status_code
        if n >= 20:  # the first ones warm caches and pools
            ours.append((elapsed - TimedAdapter.spent) * 1000)
    median = statistics.median(ours)
    return [
        Row(
            what=f"checkout creation (`POST /give` -> 303), {REQUESTS} requests",
            ours=f"median {median:.1f} ms, p90 {statistics.quantiles(ours, n=10)[-1]:.1f} ms",
            baseline="Stripe stand-in time excluded",
            goal="median < 10 ms",
            met=median < 10,
            note="in-process WSGI; PostgreSQL",
        )
    ]
