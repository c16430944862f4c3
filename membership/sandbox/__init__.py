"""An offline, stateful stand-in for the part of Stripe this service uses (tests, demo, bench)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import stripe
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader
from stripe import StripeClient

from membership.sandbox import api, billing, checkout_page, listings, payments, resources
from membership.sandbox.http_client import SANDBOX_BASE, WSGIAdapter, session_for
from membership.sandbox.ratelimit import RateLimit
from membership.sandbox.store import DAY, Obj, Store
from membership.sandbox.webhooks import Target, Webhooks, http_target, wsgi_target

__all__ = ["SANDBOX_API_KEY", "SANDBOX_WEBHOOK_SECRET", "Sandbox", "http_target", "wsgi_target"]
assert listings and resources  # imported for their @route registrations

SANDBOX_API_KEY = "sk_test_sandbox_not_a_real_key"
SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_not_a_real_secret"  # noqa: S105  (a labelled fake)
TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "templates")
STANDALONE_BASE = (
    "<!doctype html><title>{% block title %}{% endblock %}</title>"
    "<main>{% block content %}{% endblock %}</main>"
)


class Sandbox:
    """One fake Stripe account: its API as a WSGI app, its hosted pages, its clock and webhooks."""

    def __init__(
        self,
        webhook_secret: str = SANDBOX_WEBHOOK_SECRET,
        webhook_target: Target | None = None,
        start_time: int | None = None,
        public_url: str = "",
        path: str | None = None,
        api_version: str | None = None,
        rate_limit: str | int | None = None,
    ) -> None:
        """In memory, or with `path` in a SQLite file that outlives the process and is shared
        by every process opening it (demo mode under several gunicorn workers). Events come at
        `api_version`, as to an endpoint pinned to it (default: the version we pin).
        `rate_limit`: Stripe's per-second limit, "test" (25) or "live" (100) or a number."""
        self.store = Store(start_time, path)
        if api_version:
            self.store.api_version = api_version
        self.rate_limit = RateLimit.parse(rate_limit)
        self.store.public_url = public_url.rstrip("/")
        self.webhooks = Webhooks(self.store, webhook_secret, webhook_target)
        self._api_app: Flask | None = None
        self.adapter: WSGIAdapter | None = None  # the last client's transport

    # Wiring -----------------------------------------------------------------
    def wsgi_app(self) -> Flask:
        """A standalone app serving /v1 and /sandbox pages (for in-process calls or a server)."""
        if self._api_app is None:
            app = Flask("membership.sandbox", template_folder=TEMPLATES)
            app.jinja_loader = ChoiceLoader(
                [DictLoader({"base.html": STANDALONE_BASE}), FileSystemLoader(TEMPLATES)]
            )
            app.jinja_env.globals["csrf_token"] = lambda: ""
            app.register_blueprint(api.create_blueprint(self))
            app.register_blueprint(checkout_page.create_blueprint(self))
            self._api_app = app
        return self._api_app

    def client(
        self,
        api_key: str = SANDBOX_API_KEY,
        max_network_retries: int = 0,
        on_response: Callable[..., Any] | None = None,
    ) -> StripeClient:
        """A real StripeClient, on the library's own requests client, whose requests this
        sandbox answers in-process (their count: `self.adapter.sent`); `on_response`: a
        requests response hook (the importer's meter)."""
        session, self.adapter = session_for(self.wsgi_app())
        if on_response is not None:
            session.hooks["response"].append(on_response)
        return StripeClient(
            api_key,
            base_addresses={"api": SANDBOX_BASE, "connect": SANDBOX_BASE, "files": SANDBOX_BASE},
            http_client=stripe.RequestsClient(session=session),
            max_network_retries=max_network_retries,
        )

    def init_app(self, app: Flask, webhook_path: str = "/stripe/webhook") -> None:
        """Serve the hosted pages from `app` and deliver webhooks into it (demo mode only)."""
        if app.config.get("ENV_NAME") == "production" or app.config.get("STRIPE_SECRET_KEY"):
            raise RuntimeError("The Stripe sandbox must never run in production or with real keys.")
        app.register_blueprint(checkout_page.create_blueprint(self))
        if self.webhooks.target is None:
            self.webhooks.target = wsgi_target(app, webhook_path)
        app.extensions["stripe_sandbox"] = self

    # Test controls ----------------------------------------------------------
    @property
    def now(self) -> int:
        with self.store.lock:
            return self.store.now

    def pay(
        self,
        session_id: str,
        card: str = "4242424242424242",
        email: str = "reader@example.com",
        name: str | None = None,
        iban: str | None = None,
    ) -> Obj:
        """Complete a Checkout Session as the hosted page would (raises StripeError on decline);
        with a test `iban`, by SEPA Direct Debit, settled when the clock passes SETTLE_SECONDS."""
        with self.store.lock:
            session = payments.complete_checkout(
                self.store,
                self.store.get(session_id, "checkout.session"),
                email,
                name,
                card.replace(" ", ""),
                iban.replace(" ", "") if iban else None,
            )
        self.webhooks.flush()
        return session

    def advance(self, days: int = 0, seconds: int = 0) -> None:
        """Move the clock forward, renewing, retrying and expiring whatever falls due."""
        self.advance_to(self.store.now + days * DAY + seconds)

    def advance_to(self, timestamp: int) -> None:
        with self.store.lock:
            billing.advance(self.store, timestamp)
        self.webhooks.flush()

    def set_card(self, customer_id: str, card: str) -> Obj:
        """The donor switches to another test card (e.g. a failing one) for future payments."""
        from membership.sandbox import objects

        with self.store.lock:
            customer = self.store.get(customer_id, "customer")
            pm = self.store.add(
                objects.payment_method(self.store, card, customer["email"], customer["name"])
            )
            pm["customer"] = customer_id
            self.store.emit("payment_method.attached", pm)
            settings = customer["invoice_settings"] | {"default_payment_method": pm["id"]}
            self.store.update(customer, {"invoice_settings": settings}, "customer.updated")
            for sub in self.store.all("subscription"):
                if sub["customer"] == customer_id and sub["status"] != "canceled":
                    self.store.update(
                        sub, {"default_payment_method": pm["id"]}, "customer.subscription.updated"
                    )
        self.webhooks.flush()
        return pm

    def dispute(self, charge_id: str, reason: str = "fraudulent") -> Obj:
        with self.store.lock:
            dp = payments.dispute(self.store, charge_id, reason)
        self.webhooks.flush()
        return dp

    def close_dispute(self, dispute_id: str, won: bool) -> Obj:
        with self.store.lock:
            dp = payments.close_dispute(self.store, dispute_id, won)
        self.webhooks.flush()
        return dp

    def events(self, event_type: str | None = None) -> list[Obj]:
        """Events so far, oldest first (the order they were queued for delivery)."""
        with self.store.lock:
            return [e for e in self.store.events if event_type in (None, e["type"])]

    def event_types(self) -> list[str]:
        with self.store.lock:
            return [e["type"] for e in self.store.events]


def of(app: Flask) -> Sandbox | None:
    """The sandbox an app runs on in demo mode, or None when it talks to Stripe."""
    return app.extensions.get("stripe_sandbox")
