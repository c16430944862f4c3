"""Which of an account's payments are gifts: a newsroom's Stripe account may also sell
merchandise or event tickets, whose subscriptions and payments must count in no figure
(Ghost counted them as members: TryGhost/Ghost#20243).

A gift is what this service's own checkout started (its metadata names the attempt), or a
product the newsroom lists in GIFT_PRODUCT_IDS (a donation product of the tool it used
before); with STRIPE_ACCOUNT=dedicated, everything the account takes is a gift.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app

from membership import stripe_api
from membership.webhooks.events import Obj, object_id


class NotAGift(Exception):
    """The event is about something the newsroom sells, not a gift: kept, applied to nothing."""


def counts(metadata: Any, products: Iterable[str | None] = ()) -> bool:
    if current_app.config["STRIPE_ACCOUNT"] == "dedicated":
        return True
    if isinstance(metadata, dict) and metadata.get("attempt"):
        return True  # our checkout's reference (donations/checkout.py)
    extra = current_app.config["GIFT_PRODUCT_IDS"]
    return bool(extra) and any(product in extra for product in products)


def check(is_gift: bool, what: str) -> None:
    if not is_gift:
        raise NotAGift(what)


def subscription_products(sub: Obj) -> list[str | None]:
    return [object_id(item["price"].get("product")) for item in sub["items"]["data"]]


def check_subscription(sub: Obj) -> None:
    check(counts(sub.get("metadata"), subscription_products(sub)), "subscription")


def check_session(session: Obj) -> None:
    """A Checkout Session: ours by its metadata; another tool's by the products it sold, read
    from Stripe only when products are configured (the event carries no line items)."""
    if counts(session.get("metadata")):
        return
    products: list[str | None] = []
    if current_app.config["GIFT_PRODUCT_IDS"]:
        fresh = stripe_api.retrieve_checkout(session["id"])
        items = fresh.line_items.data if fresh is not None and fresh.line_items else []
        products = [product_id(item.price.product) if item.price else None for item in items]
    check(counts(None, products), "checkout session")


def product_id(product: Any) -> str | None:
    """A product's id, whether the library gave the id or the expanded Product."""
    return product if isinstance(product, str) else getattr(product, "id", None)


def check_payment(intent_id: str | None) -> None:
    """A payment we have no gift for: a gift still to be recorded (Stripe's retry will find
    it), or something sold (kept, applied to nothing). A payment intent of ours carries our
    metadata; one of a subscription's invoice is its subscription's."""
    if current_app.config["STRIPE_ACCOUNT"] == "dedicated" or intent_id is None:
        return
    intent = stripe_api.retrieve_payment_intent(intent_id)
    if counts(intent.get("metadata")):
        return
    for sub in stripe_api.subscriptions_paid_by(intent_id):
        if counts(sub.get("metadata"), subscription_products(sub)):
            return
    raise NotAGift("payment")
