"""The one place that talks to Stripe: a StripeClient built from config."""

from __future__ import annotations

from flask import Flask, current_app
from stripe import StripeClient


def init_app(app: Flask) -> None:
    """Build the app's StripeClient once; the sandbox (issue 3) plugs in here in demo mode."""
    app.extensions["stripe_client"] = build_client(app.config)


def build_client(config: dict) -> StripeClient | None:
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
