"""Events at an older API version: what a webhook endpoint pinned to that version receives.

Stripe renders an event's object at the endpoint's API version, which may be older than the
one this service pins, and lists events at the version each was created with
(https://docs.stripe.com/webhooks/versioning). The sandbox keeps its objects in today's shape
and, for an older version, rewrites the parts that Stripe's changelog documents as changed
for the objects the service receives. Handlers read ids from events and fetch the objects at
the pinned version, so they must work the same on every shape.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from membership.sandbox.store import Store

Obj = dict[str, Any]

# 2025-03-31.basil moved the billing period from the subscription to its items
# (docs.stripe.com/changelog/basil/2025-03-31/deprecate-subscription-current-period-start-and-end)
# and an invoice's subscription into `parent.subscription_details`, its payment intent and
# charge into the separate invoice payments (docs.stripe.com/changelog/basil/2025-03-31/
# adds-new-parent-field-to-invoicing-objects, .../add-support-for-multiple-partial-payments-
# on-invoices). Versions name dates first, so they sort as text.
BASIL = "2025-03-31.basil"


def render(store: Store, obj: Obj, version: str) -> Obj:
    """`obj` (today's shape) as an event at `version` carries it."""
    if version >= BASIL:
        return obj
    if obj.get("object") == "subscription":
        return subscription_before_basil(obj)
    if obj.get("object") == "invoice":
        return invoice_before_basil(store, obj)
    return obj


def subscription_before_basil(sub: Obj) -> Obj:
    old = copy.deepcopy(sub)
    periods = [
        (item.pop("current_period_start", None), item.pop("current_period_end", None))
        for item in old["items"]["data"]
    ]
    old["current_period_start"], old["current_period_end"] = periods[0] if periods else (None, None)
    return old


def invoice_before_basil(store: Store, invoice: Obj) -> Obj:
    old = copy.deepcopy(invoice)
    parent = old.pop("parent", None) or {}
    details = parent.get("subscription_details") or {}
    old["subscription"] = details.get("subscription")
    old["subscription_details"] = {"metadata": details.get("metadata") or {}}
    payments = [
        p["payment"]
        for p in store.objects.values()
        if p.get("object") == "invoice_payment" and p["invoice"] == old["id"]
    ]
    intent = payments[-1].get("payment_intent") if payments else None
    old["payment_intent"] = intent
    latest = store.objects.get(intent or "", {}).get("latest_charge")
    old["charge"] = latest if isinstance(latest, str) or latest is None else latest["id"]
    old["paid"] = old["status"] == "paid"
    old.pop("payments", None)
    return old
