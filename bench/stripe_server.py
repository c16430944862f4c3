"""A Stripe stand-in in its own process: makes realistic events, then serves the API for them.

`python -m bench.stripe_server --port P --checkouts N --out events.jsonl` pays N checkouts
(two in three monthly, the rest one-off) in the sandbox, writes every webhook payload it
would send to `out`, prints "ready", and serves the sandbox's API until killed, so the
service's handlers can fetch the objects those events name. With `--customers N` instead, it
holds another tool's history of N customers (bench/history.py) for `flask stripe import`,
and writes what it made (the tool's donation product among it) to `out` as JSON.

It serves over HTTP/1.1 keep-alive, as Stripe does: Werkzeug's development server closes
every connection, which would charge each API call a new TCP connection (and the server a
new thread) that the service never pays against Stripe, whose client keeps connections open.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from bench import history
from membership.sandbox import Sandbox
from membership.sandbox.ratelimit import RateLimit


class StandIn(BaseApplication):
    """The sandbox's API under gunicorn's threaded worker, which keeps connections alive."""

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.port = port
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": f"127.0.0.1:{self.port}",
            "workers": 1,  # one process: the sandbox's objects live in its memory
            "worker_class": "gthread",
            "threads": 64,  # one per request in flight, as many as the service may send
            "keepalive": 75,
            "loglevel": "warning",
            "when_ready": lambda _server: print("ready", flush=True),
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.app


def checkout_params(n: int) -> dict[str, Any]:
    recurring = n % 3 != 0
    price: dict[str, Any] = {
        "currency": ("usd", "eur", "gbp")[n % 3],
        "unit_amount": 500 + (n % 7) * 500,
        "product_data": {"name": "Support independent reporting"},
    }
    params: dict[str, Any] = {
        "mode": "subscription" if recurring else "payment",
        "success_url": "https://news.example/thanks?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://news.example/give",
        "line_items": [{"quantity": 1, "price_data": price}],
        "metadata": {"attempt": f"bench{n:08d}", "campaign": "", "frequency": "month"},
    }
    if recurring:
        price["recurring"] = {"interval": "month"}
    else:
        params["submit_type"] = "donate"
        params["customer_creation"] = "always"
    return params


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--checkouts", type=int, default=0)
    parser.add_argument("--customers", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.customers:
        sandbox = Sandbox()
        args.out.write_text(json.dumps(history.make(sandbox, args.customers)))
        StandIn(with_latency(sandbox), args.port).run()
        return
    payloads: list[bytes] = []

    def capture(payload: bytes, headers: dict[str, str]) -> int:
        payloads.append(payload)
        return 200

    sandbox = Sandbox(webhook_target=capture)
    client = sandbox.client()
    for n in range(args.checkouts):
        session = client.v1.checkout.sessions.create(params=checkout_params(n))  # type: ignore[arg-type]
        sandbox.pay(session.id, email=f"reader{n}@bench.example")
    with args.out.open("w") as out:
        for payload in payloads:
            out.write(json.dumps(json.loads(payload)) + "\n")
    StandIn(with_latency(sandbox), args.port).run()


def with_latency(sandbox: Sandbox) -> Any:
    """The API as the service meets Stripe's, when asked: each answer comes later, as over a
    network from a data centre to Stripe's. The wait holds a thread, not a CPU. `POST
    /__latency` with a number of milliseconds as its body sets the delay (at first none);
    `POST /__rate_limit` with `live`, `test` or a number turns on Stripe's per-second limit
    (membership/sandbox/ratelimit.py), and `GET /__rate_limit` says how many it refused."""
    app = sandbox.wsgi_app()
    delay = {"seconds": 0.0}

    def delayed(environ: Any, start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        if path in ("/__latency", "/__rate_limit") and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size).decode()
            if path == "/__latency":
                delay["seconds"] = float(body) / 1000
            else:
                sandbox.rate_limit = RateLimit.parse(body)
            start_response("204 No Content", [])
            return [b""]
        if path == "/__rate_limit":
            refused = sandbox.rate_limit.refused if sandbox.rate_limit else 0
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [str(refused).encode()]
        if delay["seconds"]:
            time.sleep(delay["seconds"])  # the simulated network, not a measurement
        return app(environ, start_response)

    return delayed


if __name__ == "__main__":
    main()
