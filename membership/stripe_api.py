"""The one place that talks to Stripe: a StripeClient built from config (or the sandbox in demo)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from stripe import StripeClient


def demo_mode(config: Mapping[str, Any]) -> bool:
    """Demo mode (the offline sandbox) only without any Stripe key and never in production."""
    return not config.get("STRIPE_SECRET_KEY") and config.get("ENV_NAME") != "production"


def init_app(app: Flask) -> None:
    """Build the app's StripeClient once; with no key outside production, wire in the sandbox."""
    app.config["DEMO_MODE"] = demo_mode(app.config)
    if not app.config["DEMO_MODE"]:
        app.extensions["stripe_client"] = build_client(app.config)
        return
    from membership.sandbox import SANDBOX_WEBHOOK_SECRET, Sandbox, http_target

    if not app.config.get("STRIPE_WEBHOOK_SECRET"):
        app.config["STRIPE_WEBHOOK_SECRET"] = SANDBOX_WEBHOOK_SECRET
    url = app.config.get("SANDBOX_WEBHOOK_URL")
    sandbox = Sandbox(
        webhook_secret=app.config["STRIPE_WEBHOOK_SECRET"],
        webhook_target=http_target(url) if url else None,
    )
    sandbox.init_app(app)
    app.extensions["stripe_client"] = sandbox.client()


def build_client(config: Mapping[str, Any]) -> StripeClient | None:
    api_key = config.get("STRIPE_SECRET_KEY")
    if not api_key:
        return None
    base = config.get("STRIPE_API_BASE")
    return StripeClient(api_key, base_addresses={"api": base} if base else None)


def client() -> StripeClient:
    stripe_client = current_app.extensions.get("stripe_client")
    if stripe_client is None:
        raise RuntimeError("Stripe is not configured: set STRIPE_SECRET_KEY.")
    return stripe_client
