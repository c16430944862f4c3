"""The one place that talks to Stripe: a StripeClient built from config (or the sandbox in demo)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
from flask import Flask, current_app
from stripe import StripeClient


class PaymentProviderError(RuntimeError):
    """Stripe could not do what we asked; the reader sees a retry message, never a 500."""


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
    # Retries reuse the request's idempotency key, so a retried create never doubles up.
    return StripeClient(
        api_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=config.get("STRIPE_MAX_NETWORK_RETRIES", 2),
    )


def client() -> StripeClient:
    stripe_client = current_app.extensions.get("stripe_client")
    if stripe_client is None:
        raise RuntimeError("Stripe is not configured: set STRIPE_SECRET_KEY.")
    return stripe_client


# Checkout ---------------------------------------------------------------------------------


def create_checkout(params: dict[str, Any], idempotency_key: str) -> tuple[str, str]:
    """Open a Checkout Session; the same key and params return the same session."""
    try:
        session = client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"checkout session not created: {type(exc).__name__}") from exc
    if not session.url:
        raise PaymentProviderError("checkout session has no URL")
    return session.id, session.url


def retrieve_checkout(session_id: str) -> stripe.checkout.Session | None:
    """The session as Stripe has it now (with its line items), or None if Stripe has no such id."""
    try:
        return client().v1.checkout.sessions.retrieve(session_id, params={"expand": ["line_items"]})
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise PaymentProviderError(f"checkout session not read: {exc.code}") from exc
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"checkout session not read: {type(exc).__name__}") from exc


# Reads for the webhook handlers: they fetch the current object rather than trust an event's
# snapshot, so events may arrive in any order. Each returns plain dicts in Stripe's shape.


def retrieve_subscription(subscription_id: str) -> dict[str, Any]:
    return client().v1.subscriptions.retrieve(subscription_id).to_dict(for_json=True)


def retrieve_customer(customer_id: str) -> dict[str, Any]:
    return client().v1.customers.retrieve(customer_id).to_dict(for_json=True)


def retrieve_invoice(invoice_id: str) -> dict[str, Any]:
    """The invoice with its payments, which Stripe only includes when expanded."""
    params: Any = {"expand": ["payments"]}
    return client().v1.invoices.retrieve(invoice_id, params=params).to_dict(for_json=True)


def retrieve_payment_intent(payment_intent_id: str) -> dict[str, Any]:
    """The payment intent with its charge and the charge's balance transaction (fee, net)."""
    params: Any = {"expand": ["latest_charge.balance_transaction"]}
    return (
        client()
        .v1.payment_intents.retrieve(payment_intent_id, params=params)
        .to_dict(for_json=True)
    )


def retrieve_charge(charge_id: str) -> dict[str, Any]:
    params: Any = {"expand": ["balance_transaction"]}
    return client().v1.charges.retrieve(charge_id, params=params).to_dict(for_json=True)


def retrieve_dispute(dispute_id: str) -> dict[str, Any]:
    return client().v1.disputes.retrieve(dispute_id).to_dict(for_json=True)


def retrieve_event(event_id: str) -> dict[str, Any]:
    return client().v1.events.retrieve(event_id).to_dict(for_json=True)


def list_events(created_since: int, types: list[str]) -> list[dict[str, Any]]:
    """Events created at or after `created_since` (epoch seconds), oldest first."""
    params: Any = {"created": {"gte": created_since}, "types": types, "limit": 100}
    page = client().v1.events.list(params=params)
    return [event.to_dict(for_json=True) for event in reversed(list(page.auto_paging_iter()))]
