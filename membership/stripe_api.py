"""The one place that talks to Stripe: a StripeClient built from config (or the sandbox in demo)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote_plus

import requests
import stripe
from flask import Flask, current_app
from stripe import StripeClient

# Connections to Stripe kept open per process: more than a process has threads
# (gunicorn.conf.py), so none waits for another's or opens one only to drop it after.
KEPT_CONNECTIONS = 32


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
        path=sandbox_state_path(app),
        rate_limit=app.config.get("SANDBOX_RATE_LIMIT"),
    )
    sandbox.init_app(app)
    # The same retries as against Stripe: a 429 is retried with the library's backoff.
    retries = app.config.get("STRIPE_MAX_NETWORK_RETRIES", 2)
    app.extensions["stripe_client"] = sandbox.client(max_network_retries=retries)


def sandbox_state_path(app: Flask) -> str | None:
    """Where demo mode keeps the stand-in's state: a file under instance/ unless configured."""
    setting = app.config.get("SANDBOX_STATE")
    if setting == "memory":
        return None
    if setting:
        return str(setting)
    os.makedirs(app.instance_path, exist_ok=True)
    return os.path.join(app.instance_path, "stripe-sandbox.db")


def build_client(
    config: Mapping[str, Any], on_response: Callable[..., Any] | None = None
) -> StripeClient | None:
    """`on_response`: a requests response hook on every answer (the importer's meter)."""
    api_key = config.get("STRIPE_SECRET_KEY")
    if not api_key:
        return None
    base = config.get("STRIPE_API_BASE")
    session = stripe_session()
    if on_response is not None:
        session.hooks["response"].append(on_response)
    # Retries reuse the request's idempotency key, so a retried create never doubles up.
    return StripeClient(
        api_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=config.get("STRIPE_MAX_NETWORK_RETRIES", 2),
        http_client=stripe.RequestsClient(timeout=80, session=session),
    )


@contextmanager
def metered(on_response: Callable[..., Any]) -> Iterator[None]:
    """The app's Stripe calls, for the block, through a client of the same kind (Stripe's or
    the sandbox's) whose every answer also goes to `on_response`."""
    from membership import sandbox as sandbox_module

    app = current_app
    found = sandbox_module.of(app)
    retries = app.config.get("STRIPE_MAX_NETWORK_RETRIES", 2)
    client = (
        found.client(max_network_retries=retries, on_response=on_response)
        if found is not None
        else build_client(app.config, on_response)
    )
    before = app.extensions.get("stripe_client")
    app.extensions["stripe_client"] = client
    try:
        yield
    finally:
        app.extensions["stripe_client"] = before


def http_client(timeout: float = 80) -> stripe.RequestsClient:
    """The stripe library's requests client on one Session for the whole process
    (https://github.com/stripe/stripe-python#configuring-an-http-client)."""
    return stripe.RequestsClient(timeout=timeout, session=stripe_session())


def stripe_session() -> requests.Session:
    """A Session whose pool keeps a connection for each of a worker's threads, shared by all
    of them instead of one Session (and pool) per thread. requests reads proxy settings
    (HTTPS_PROXY, NO_PROXY) from the environment as usual."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=KEPT_CONNECTIONS)
    session.mount("https://", adapter)
    session.mount("http://", adapter)  # a stand-in server (STRIPE_API_BASE) in tests
    return session


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
# snapshot, so events may arrive in any order. Each returns plain dicts in Stripe's shape: the
# response's JSON as it is, without building a StripeObject tree only to take it apart again.


def _read(path: str, object_id: str, expand: list[str] | None = None) -> dict[str, Any]:
    """GET /v1/<path>/<id> (with expand[]) as JSON; Stripe's errors raise as the library's do."""
    params: Any = {"expand": expand} if expand else {}
    response = client().raw_request("get", f"/v1/{path}/{quote_plus(object_id)}", **params)
    data: dict[str, Any] = response.data
    return data


def retrieve_subscription(subscription_id: str, with_customer: bool = False) -> dict[str, Any]:
    """The subscription with its schedule (a change set for the next period: its phases name
    their prices by id); `with_customer` expands its customer (email) in the same request.
    Both are one level deep, which every API version expands."""
    expand = ["schedule", *(["customer"] if with_customer else [])]
    return _read("subscriptions", subscription_id, expand)


def retrieve_price(price_id: str) -> dict[str, Any]:
    return _read("prices", price_id)


def retrieve_customer(customer_id: str) -> dict[str, Any]:
    return _read("customers", customer_id)


def customer_name(customer_id: str) -> str | None:
    """The name Stripe holds for a customer; None for one deleted or unknown there."""
    try:
        return retrieve_customer(customer_id).get("name")
    except stripe.StripeError as exc:
        if is_missing(exc):
            return None
        raise


def retrieve_invoice(invoice_id: str) -> dict[str, Any]:
    """The invoice with its payments (only included when expanded) and its subscription.

    The subscription comes expanded in the same request, as Stripe has it now, so a handler
    that syncs it needs no second request.
    """
    return _read("invoices", invoice_id, ["payments", "parent.subscription_details.subscription"])


def retrieve_payment_intent(payment_intent_id: str) -> dict[str, Any]:
    """The payment intent with its charge and the charge's balance transaction (fee, net)."""
    return _read("payment_intents", payment_intent_id, ["latest_charge.balance_transaction"])


def subscriptions_paid_by(payment_intent_id: str) -> list[dict[str, Any]]:
    """The subscriptions whose invoices this payment intent paid (none for a one-off), through
    the invoice payments that name it, each with its invoice and subscription in one request
    (https://docs.stripe.com/api/invoice-payment/list)."""
    params: Any = {
        "payment": {"type": "payment_intent", "payment_intent": payment_intent_id},
        "expand": ["data.invoice.parent.subscription_details.subscription"],
    }
    found = []
    listed: dict[str, Any] = client().raw_request("get", "/v1/invoice_payments", **params).data
    for payment in listed["data"]:
        invoice = payment.get("invoice")
        details = ((invoice or {}).get("parent") or {}).get("subscription_details") or {}
        sub = details.get("subscription")
        if isinstance(sub, dict):
            found.append(sub)
    return found


def retrieve_charge(charge_id: str) -> dict[str, Any]:
    return _read("charges", charge_id, ["balance_transaction"])


def retrieve_dispute(dispute_id: str) -> dict[str, Any]:
    return _read("disputes", dispute_id)


def retrieve_event(event_id: str) -> dict[str, Any]:
    return _read("events", event_id)


def list_events(created_since: int, types: list[str]) -> list[dict[str, Any]]:
    """Events created at or after `created_since` (epoch seconds), oldest first."""
    params: Any = {"created": {"gte": created_since}, "types": types, "limit": 100}
    page = client().v1.events.list(params=params)
    return [event.to_dict(for_json=True) for event in reversed(list(page.auto_paging_iter()))]


# Donor self-service (account/): changes to a recurring gift. Each returns nothing: our rows
# change only when Stripe's webhook confirms the change (webhooks/subscriptions.py).


def _modify_subscription(subscription_id: str, params: dict[str, Any], what: str) -> None:
    try:
        client().v1.subscriptions.update(subscription_id, params=params)  # type: ignore[arg-type]
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"{what} failed: {type(exc).__name__}") from exc


def update_subscription_price(
    subscription_id: str, amount: int, currency: str, interval: str, fee_covered: int = 0
) -> None:
    """Give the subscription's only item a new amount and/or interval from the next period;
    `fee_covered`: the part of `amount` that covers the card fees, kept in its metadata.

    The same interval: the item's price changes now and is first charged at the renewal.
    Another interval cannot go on the subscription itself, which would start a new billing
    period and charge at once whatever the proration setting (docs.stripe.com/billing/
    subscriptions/billing-cycle): a subscription schedule keeps the paid period as its
    first phase and starts the new price when it ends (docs.stripe.com/billing/subscriptions/
    subscription-schedules). A change asked for before and not yet started is replaced.
    """
    try:
        sub = client().v1.subscriptions.retrieve(subscription_id)
        if sub.schedule:
            release_schedule(_id_of(sub.schedule))
        item = sub["items"]["data"][0]
        product = item["price"]["product"]
        price_data = {
            "currency": currency.lower(),
            "unit_amount": amount,
            "recurring": {"interval": interval},
            "product": product if isinstance(product, str) else product["id"],
        }
        # Renewals read it from here (webhooks/payments.py); an empty string is how Stripe's
        # API unsets a metadata key, for a donor who no longer covers the fees.
        fee = {"fee_covered": str(fee_covered) if fee_covered else ""}
        if item["price"]["recurring"]["interval"] == interval:
            params = {
                "items": [{"id": item["id"], "price_data": price_data, "quantity": 1}],
                "metadata": fee,
                # A donation is not a service used part-way: the new amount starts next period.
                "proration_behavior": "none",
            }
            client().v1.subscriptions.update(subscription_id, params=params)  # type: ignore[arg-type]
            return
        schedule_change(sub, item, price_data, fee)
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"subscription price update failed: {_reason(exc)}") from exc


def schedule_change(sub: Any, item: Any, price_data: dict[str, Any], fee: dict[str, str]) -> None:
    """Two phases: the paid period at today's price, then the new price from its end."""
    schedule = client().v1.subscription_schedules.create(params={"from_subscription": sub.id})
    current = schedule.phases[0]
    metadata: dict[str, str] = sub.metadata.to_dict() if sub.metadata else {}
    # A phase's metadata goes onto the subscription when the phase starts; "0" rather than
    # an empty value, which a phase does not treat as unsetting.
    after = {
        **metadata,
        "fee_covered": fee["fee_covered"] or "0",
        "frequency": price_data["recurring"]["interval"],
    }
    params: Any = {
        "end_behavior": "release",
        "phases": [
            {
                "items": [{"price": _id_of(current["items"][0]["price"]), "quantity": 1}],
                "start_date": current.start_date,
                "end_date": item["current_period_end"],
                "metadata": metadata,
            },
            {
                "items": [{"price_data": price_data, "quantity": 1}],
                "duration": {"interval": price_data["recurring"]["interval"], "interval_count": 1},
                "metadata": after,
                "proration_behavior": "none",
            },
        ],
    }
    client().v1.subscription_schedules.update(schedule.id, params=params)


def release_schedule(schedule_id: str | None) -> None:
    """Detach a schedule: its later phases never start, the subscription stays as it is."""
    if schedule_id:
        client().v1.subscription_schedules.release(schedule_id)


def pause_subscription(subscription_id: str, resumes_at: int) -> None:
    """Skip collection until `resumes_at` (epoch seconds); invoices meanwhile are voided."""
    params = {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}}
    _modify_subscription(subscription_id, params, "subscription pause")


def resume_subscription(subscription_id: str) -> None:
    # An empty string is how Stripe's API unsets a field.
    _modify_subscription(subscription_id, {"pause_collection": ""}, "subscription resume")


def cancel_subscription_at_period_end(subscription_id: str, comment: str | None = None) -> None:
    """Stop renewing after the paid period; the donor's optional words go to Stripe only. A
    change scheduled for the next period is dropped first (a schedule governs cancellation
    while attached). Done also when Stripe refuses because the subscription has already ended
    or is gone."""
    params: dict[str, Any] = {"cancel_at_period_end": True}
    if comment:
        params["cancellation_details"] = {"comment": comment}
    try:
        release_schedule(_id_of(retrieve_subscription(subscription_id).get("schedule")))
        client().v1.subscriptions.update(subscription_id, params=params)  # type: ignore[arg-type]
    except stripe.StripeError as exc:
        if not subscription_has_ended(subscription_id):
            raise PaymentProviderError(f"subscription cancel failed: {_reason(exc)}") from exc


def cancel_subscription_now(subscription_id: str) -> None:
    """End the subscription at once (erasure), without a final invoice or proration. Done also
    when Stripe says no: a canceled or missing subscription is the goal reached."""
    try:
        client().v1.subscriptions.cancel(subscription_id)
    except stripe.StripeError as exc:
        if subscription_has_ended(subscription_id):
            return
        raise PaymentProviderError(f"subscription cancel failed: {_reason(exc)}") from exc


def subscription_has_ended(subscription_id: str) -> bool:
    """After Stripe refused a change: whether the subscription is canceled or gone, read again
    rather than guessed from the error's wording (Stripe answers a cancel of a canceled
    subscription with 404 "No such subscription", stripe/stripe-go#1887)."""
    try:
        sub = retrieve_subscription(subscription_id)
    except stripe.StripeError as exc:
        return is_missing(exc)
    return sub.get("status") in ENDED


# Subscriptions in these states never charge again (docs.stripe.com/billing/subscriptions/overview)
ENDED = frozenset({"canceled", "incomplete_expired"})


def is_missing(exc: stripe.StripeError) -> bool:
    """Stripe has no such object: 404 with code `resource_missing`
    (https://docs.stripe.com/error-codes/resource-missing)."""
    return exc.http_status == 404 or exc.code == "resource_missing"


def _reason(exc: stripe.StripeError) -> str:
    return exc.code or type(exc).__name__


def forget_customer_details(customer_id: str) -> None:
    """Blank the email and name Stripe holds for an erased donor (its payments records remain).
    A customer Stripe has deleted holds neither any more (docs.stripe.com/api/customers/delete)."""
    try:
        client().v1.customers.update(customer_id, params={"email": "", "name": ""})
    except stripe.StripeError as exc:
        if is_missing(exc):
            return
        raise PaymentProviderError(f"customer not updated: {_reason(exc)}") from exc


def create_portal_session(customer_id: str, return_url: str) -> str:
    """A Billing Portal session where the donor updates their card; returns its URL."""
    try:
        session = client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url}
        )
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"portal session not created: {type(exc).__name__}") from exc
    return session.url


# Email reminders (mail/card_expiry.py) ----------------------------------------------------


def default_card(subscription_id: str) -> dict[str, Any] | None:
    """The card the subscription's next payment will use: id, brand, last4 and expiry, or None.

    The subscription's own default payment method wins over the customer's, as in Stripe's
    billing; never the card number, which Stripe does not give out anyway.
    """
    sub = retrieve_subscription(subscription_id)
    pm_id = _id_of(sub.get("default_payment_method"))
    if pm_id is None and sub.get("customer"):
        customer = retrieve_customer(_id_of(sub["customer"]) or "")
        pm_id = _id_of((customer.get("invoice_settings") or {}).get("default_payment_method"))
    if pm_id is None:
        return None
    pm = client().v1.payment_methods.retrieve(pm_id).to_dict(for_json=True)
    card = pm.get("card") if pm.get("type") == "card" else None
    if not card:
        return None
    fields = ("brand", "last4", "exp_month", "exp_year")
    return {"id": pm["id"], **{name: card[name] for name in fields}}


def _id_of(value: Any) -> str | None:
    """An expandable field's id, whether Stripe gave the id or the object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None
