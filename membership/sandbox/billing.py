"""Subscriptions over time: first invoice, renewals, dunning retries, updates and cancellation."""

from __future__ import annotations

import copy
import heapq
import itertools
from typing import Any

from membership.sandbox import bank_debits, cards, objects, schedules
from membership.sandbox import billing_objects as bo
from membership.sandbox import payment_objects as po
from membership.sandbox.errors import StripeError
from membership.sandbox.store import DAY, Obj, Store

# Days after the first failed renewal when payment is retried; after the last, the
# subscription is canceled (Stripe's "cancel the subscription" dunning setting).
RETRY_DAYS = (3, 5, 7)
LIVE = ("active", "past_due", "trialing")
UPDATABLE = {
    "items",
    "pause_collection",
    "cancel_at_period_end",
    "cancellation_details",
    "metadata",
    "description",
}
UPDATABLE |= {"default_payment_method", "proration_behavior", "expand", "payment_behavior"}


def start_subscription(
    store: Store, customer: Obj, price: Obj, pm: Obj, metadata: Obj, trial_days: int = 0
) -> Obj:
    """The subscription and its first invoice, paid now; with a trial, the subscription is
    `trialing` until the trial ends, its period is the trial, and the first invoice is for 0,
    paid with no charge; the first paid period starts when the trial ends ("An immediate
    invoice is still created, but for $0 ... A new billing cycle also begins for the customer
    when the trial ends": https://docs.stripe.com/billing/subscriptions/trials)."""
    sub = bo.subscription(store, customer["id"], price, pm["id"], metadata)
    if trial_days:
        trial_end = store.now + trial_days * DAY
        sub.update(status="trialing", trial_start=store.now, trial_end=trial_end)
        sub["items"]["data"][0]["current_period_end"] = trial_end
    store.add(sub)
    store.emit("customer.subscription.created", sub)
    invoice = new_invoice(store, sub, customer, "subscription_create")
    if trial_days:
        for line in invoice["lines"]["data"]:
            line["amount"] = 0
        transitions = invoice["status_transitions"] | {"paid_at": store.now}
        invoice.update(
            amount_due=0,
            amount_remaining=0,
            subtotal=0,
            subtotal_excluding_tax=0,
            total=0,
            total_excluding_tax=0,
            status="paid",
            status_transitions=transitions,
        )
        store.emit("invoice.paid", invoice)
        return sub
    pay_invoice(store, invoice)
    return sub


def new_invoice(store: Store, sub: Obj, customer: Obj, reason: str, finalize: bool = True) -> Obj:
    invoice = store.add(bo.invoice(store, sub, customer, reason))
    invoice["_payments"] = []
    sub["latest_invoice"] = invoice["id"]
    store.emit("invoice.created", invoice)
    if finalize:
        transitions = invoice["status_transitions"] | {"finalized_at": store.now}
        invoice.update(status="open", effective_at=store.now, status_transitions=transitions)
        store.emit("invoice.finalized", invoice)
    return invoice


def pay_invoice(store: Store, invoice: Obj) -> bool:
    """One payment attempt with the subscription's card; schedules the next on failure."""
    sub = store.get(invoice["parent"]["subscription_details"]["subscription"], "subscription")
    pm = store.get(sub["default_payment_method"], "payment_method")
    description = (
        "Subscription creation"
        if invoice["billing_reason"] == "subscription_create"
        else "Subscription update"
    )
    intent = store.add(
        po.payment_intent(
            store,
            invoice["amount_due"],
            invoice["currency"],
            invoice["customer"],
            description=description,
        )
    )
    store.emit("payment_intent.created", intent)
    payment = store.add(bo.invoice_payment(store, invoice, intent))
    invoice["_payments"].append(payment["id"])
    charge = cards.charge(store, intent, pm)
    invoice.update(attempt_count=invoice["attempt_count"] + 1, attempted=True)
    if charge["paid"]:
        payment.update(
            amount_paid=invoice["amount_due"],
            status="paid",
            status_transitions={"canceled_at": None, "paid_at": store.now},
        )
        store.emit("invoice_payment.paid", payment)
        transitions = invoice["status_transitions"] | {"paid_at": store.now}
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            next_payment_attempt=None,
            status_transitions=transitions,
        )
        store.emit("invoice.paid", invoice)
        store.emit("invoice.payment_succeeded", invoice)
        if sub["status"] in ("past_due", "trialing"):
            store.update(sub, {"status": "active"}, "customer.subscription.updated")
        return True
    payment.update(
        status="canceled", status_transitions={"canceled_at": store.now, "paid_at": None}
    )
    first_failure = invoice.setdefault("_first_failed_at", store.now)
    retries_done = invoice["attempt_count"] - 1
    next_at = (
        first_failure + RETRY_DAYS[retries_done] * DAY if retries_done < len(RETRY_DAYS) else None
    )
    invoice["next_payment_attempt"] = next_at
    store.emit("invoice.payment_failed", invoice)
    if next_at is None:
        cancel(store, sub, {"reason": "payment_failed"})
    elif sub["status"] in ("active", "trialing"):
        store.update(sub, {"status": "past_due"}, "customer.subscription.updated")
    return False


def renew(store: Store, sub: Obj) -> None:
    """The period ended: start the next one, then invoice it unless collection is paused."""
    if sub["cancel_at_period_end"]:
        cancel(store, sub, {"reason": "cancellation_requested"})
        return
    items = copy.deepcopy(sub["items"])
    item = items["data"][0]
    recurring = item["price"]["recurring"]
    start = item["current_period_end"]
    item.update(
        current_period_start=start,
        current_period_end=bo.period_end(start, recurring["interval"], recurring["interval_count"]),
    )
    pause = sub["pause_collection"]
    if pause and pause["resumes_at"] and pause["resumes_at"] <= store.now:
        pause = None
    store.update(sub, {"items": items, "pause_collection": pause}, "customer.subscription.updated")
    customer = store.get(sub["customer"], "customer")
    if not pause:
        pay_invoice(store, new_invoice(store, sub, customer, "subscription_cycle"))
        return
    invoice = new_invoice(
        store, sub, customer, "subscription_cycle", finalize=pause["behavior"] != "keep_as_draft"
    )
    if pause["behavior"] == "void":
        store.update(invoice, {"status": "void"}, None)
        store.emit("invoice.voided", invoice)
    elif pause["behavior"] == "mark_uncollectible":
        store.update(invoice, {"status": "uncollectible"}, None)
        store.emit("invoice.marked_uncollectible", invoice)


def update(store: Store, sub: Obj, params: dict[str, Any]) -> Obj:
    unsupported = sorted(set(params) - UPDATABLE)
    if unsupported:
        raise StripeError(
            f"The sandbox does not implement subscription param: {unsupported[0]}",
            param=unsupported[0],
        )
    if sub["status"] == "canceled":
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    if sub["schedule"] and "cancel_at_period_end" in params:
        raise StripeError(
            f"The subscription is managed by the subscription schedule `{sub['schedule']}`, and "
            "updating any cancelation behavior directly is not allowed. Please update the "
            "schedule instead."
        )
    changes: Obj = {}
    new_interval = False
    if "items" in params:
        changes["items"] = _updated_items(store, sub, params["items"])
        new_interval = _interval(changes["items"]) != _interval(sub["items"])
    if "pause_collection" in params:
        pause = params["pause_collection"]
        resumes_at = int(pause["resumes_at"]) if pause and pause.get("resumes_at") else None
        changes["pause_collection"] = (
            {"behavior": pause["behavior"], "resumes_at": resumes_at} if pause else None
        )
    if "cancel_at_period_end" in params:
        at_end = params["cancel_at_period_end"] == "true"
        period_end = sub["items"]["data"][0]["current_period_end"]
        changes.update(cancel_at_period_end=at_end, cancel_at=period_end if at_end else None)
        reason = "cancellation_requested" if at_end else None
        changes["cancellation_details"] = sub["cancellation_details"] | {"reason": reason}
    if "cancellation_details" in params:
        given = params["cancellation_details"] or {}
        current: Obj = changes.get("cancellation_details") or sub["cancellation_details"]
        changes["cancellation_details"] = current | {
            key: given[key] or None for key in ("comment", "feedback") if key in given
        }
    if "metadata" in params:
        merged = sub["metadata"] | (params["metadata"] or {})
        changes["metadata"] = (
            {k: v for k, v in merged.items() if v != ""} if params["metadata"] else {}
        )
    if params.get("default_payment_method"):
        changes["default_payment_method"] = store.get(
            params["default_payment_method"], "payment_method", "default_payment_method"
        )["id"]
    if "description" in params:
        changes["description"] = params["description"] or None
    if not new_interval:
        return store.update(sub, changes, "customer.subscription.updated")
    # A price with another billing interval resets the billing cycle anchor to now and is
    # invoiced at once, whatever proration_behavior says: "If you change the billing
    # interval, the billing cycle anchor resets" (docs.stripe.com/billing/subscriptions/
    # billing-cycle#changing-the-billing-cycle, .../upgrade-downgrade#changing-price-intervals).
    item = changes["items"]["data"][0]
    recurring = item["price"]["recurring"]
    end = bo.period_end(store.now, recurring["interval"], recurring["interval_count"])
    item.update(current_period_start=store.now, current_period_end=end)
    changes["billing_cycle_anchor"] = store.now
    store.update(sub, changes, "customer.subscription.updated")
    customer = store.get(sub["customer"], "customer")
    pay_invoice(store, new_invoice(store, sub, customer, "subscription_update"))
    return sub


def _interval(items: Obj) -> tuple[str, int]:
    recurring = items["data"][0]["price"]["recurring"]
    return recurring["interval"], recurring["interval_count"]


def _updated_items(store: Store, sub: Obj, requested: list[Obj]) -> Obj:
    """Swap an item's price (no proration: donations change from the next period)."""
    items = copy.deepcopy(sub["items"])
    by_id = {item["id"]: item for item in items["data"]}
    for index, change in enumerate(requested):
        item = by_id.get(change.get("id", ""))
        if item is None:
            raise StripeError.missing(
                "subscription item", change.get("id", ""), f"items[{index}][id]"
            )
        if change.get("price"):
            price = store.get(change["price"], "price", f"items[{index}][price]")
        elif change.get("price_data"):
            data = change["price_data"]
            store.get(data.get("product", ""), "product", f"items[{index}][price_data][product]")
            price = store.add(objects.price(store, data, data["product"]))
        else:
            price = item["price"]
        item.update(price=price, plan=bo.plan(price), quantity=int(change.get("quantity", 1)))
    return items


def cancel(store: Store, sub: Obj, details: Obj) -> Obj:
    if sub["status"] == "canceled":
        # Cancelling a canceled subscription is answered as if it did not exist: a canceled
        # subscription "is akin to being deleted already" (Stripe, stripe/stripe-go#1887);
        # it can still be retrieved.
        raise StripeError.missing("subscription", sub["id"])
    details = {"comment": None, "feedback": None, "reason": "cancellation_requested"} | details
    schedules.cancel_with(store, sub)
    changes = {
        "status": "canceled",
        "canceled_at": store.now,
        "ended_at": store.now,
        "cancellation_details": details,
    }
    store.update(sub, changes)
    store.emit("customer.subscription.deleted", sub)
    return sub


def advance(store: Store, to: int) -> None:
    """Move the clock to `to`, running everything that falls due on the way, in time order.

    The due actions are looked up once and kept in a heap; after each one, what it touched
    (its subscription, the objects it made) is looked at again, and an action that no longer
    holds when its turn comes is passed over. A last look over everything finds anything due
    that was not foreseen, so a long advance over a large account costs a heap, not a scan of
    every object per renewal."""
    while True:
        heap = [action for action in _due_actions(store) if action[0] <= to]
        if not heap:
            break
        heapq.heapify(heap)
        while heap:
            when, oid, kind = heapq.heappop(heap)
            obj = store.objects.get(oid)
            if obj is None or _action_of(store, obj) != (when, oid, kind):
                continue  # done already, or changed since it was foreseen
            store.now = max(store.now, when)
            store.touch(oid)
            known = len(store.objects)
            _run(store, kind, obj)
            for touched in _touched(store, obj, len(store.objects) - known):
                action = _action_of(store, touched)
                if action is not None and action[0] <= to:
                    heapq.heappush(heap, action)
    store.now = max(store.now, to)


def _run(store: Store, kind: str, obj: Obj) -> None:
    if kind == "renew":
        renew(store, obj)
    elif kind == "phase":
        schedules.start_next_phase(store, obj, renew)
    elif kind == "release":
        schedules.end(store, obj, renew)
    elif kind == "retry":
        pay_invoice(store, obj)
    elif kind == "settle":
        bank_debits.settle(store, obj)
    else:
        store.update(obj, {"status": "expired"})
        store.emit("checkout.session.expired", obj)


def _touched(store: Store, obj: Obj, added: int) -> list[Obj]:
    """What an action may have given a new due action: the object, its subscription and its
    schedule, and every object it made (the newest in the store)."""
    found = [obj, *itertools.islice(reversed(store.objects.values()), added)]
    related = []
    for item in found:
        parent = (item.get("parent") or {}).get("subscription_details") or {}
        for oid in (item.get("subscription"), parent.get("subscription"), item.get("schedule")):
            if isinstance(oid, str) and oid in store.objects:
                related.append(store.objects[oid])
    return [item for item in (*found, *related) if item["object"] != "event"]


def _action_of(store: Store, obj: Obj) -> tuple[int, str, str] | None:
    """The one action the clock has for an object now, if any (as `_due_actions` finds it)."""
    kind = obj["object"]
    if kind == "subscription_schedule":
        sub = store.objects.get(obj.get("subscription") or "")
        return _action_of(store, sub) if sub is not None else None
    if kind == "subscription":
        if obj["status"] not in LIVE:
            return None
        period_end = obj["items"]["data"][0]["current_period_end"]
        change = schedules.next_change(store, obj)
        if change is not None and change[0] <= period_end:
            return change[0], change[2]["id"], change[1]
        return period_end, obj["id"], "renew"
    if kind == "invoice" and obj["status"] == "open" and obj["next_payment_attempt"]:
        return obj["next_payment_attempt"], obj["id"], "retry"
    if kind == "checkout.session" and obj["status"] == "open":
        return obj["expires_at"], obj["id"], "expire"
    if kind == "payment_intent" and obj["status"] == "processing" and obj.get("_settles_at"):
        return obj["_settles_at"], obj["id"], "settle"
    return None


def _due_actions(store: Store) -> list[tuple[int, str, str]]:
    """Every action the clock has, at what time. A subscription's is its renewal, unless its
    schedule's change comes first (that change renews the subscription itself)."""
    actions = []
    for kind in ("subscription", "invoice", "checkout.session", "payment_intent"):
        for obj in store.all(kind):
            action = _action_of(store, obj)
            if action is not None:
                actions.append(action)
    return actions
