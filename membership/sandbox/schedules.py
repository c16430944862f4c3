"""Subscription schedules: changes that start at a set time, in phases.

A donor's change of interval must start when the paid period ends: changing the price of the
subscription itself to another interval resets its billing cycle anchor and invoices at once,
whatever `proration_behavior` says (billing.update). A schedule made from the subscription
keeps the current phase to its end and starts the next phase's price then; with
end_behavior=release the subscription carries on alone after the last phase
(https://docs.stripe.com/billing/subscriptions/subscription-schedules).
"""

from __future__ import annotations

from typing import Any

from membership.sandbox import billing_objects as bo
from membership.sandbox import objects
from membership.sandbox.errors import StripeError
from membership.sandbox.store import Obj, Store

EDITABLE = ("active", "not_started")


def create(store: Store, params: Obj) -> Obj:
    """From an existing subscription: one phase, the current period at the current price."""
    if not params.get("from_subscription"):
        raise StripeError(
            "The sandbox creates schedules from a subscription only.", param="from_subscription"
        )
    sub = store.get(params["from_subscription"], "subscription", "from_subscription")
    if sub["schedule"]:
        raise StripeError(
            "You cannot migrate a subscription that is already attached to a schedule: "
            f"`{sub['schedule']}`.",
            param="from_subscription",
        )
    if sub["status"] == "canceled":
        raise StripeError("You cannot migrate a canceled subscription.", param="from_subscription")
    item = sub["items"]["data"][0]
    start, end = item["current_period_start"], item["current_period_end"]
    schedule = store.add(
        {
            "id": store.new_id("sub_sched"),
            "object": "subscription_schedule",
            "application": None,
            "canceled_at": None,
            "completed_at": None,
            "created": store.now,
            "current_phase": {"start_date": start, "end_date": end},
            "customer": sub["customer"],
            "default_settings": {"billing_cycle_anchor": "automatic"},
            "end_behavior": "release",
            "livemode": False,
            "metadata": {},
            "phases": [phase(start, end, item["price"], sub["metadata"])],
            "released_at": None,
            "released_subscription": None,
            "status": "active",
            "subscription": sub["id"],
            "test_clock": None,
        }
    )
    store.update(sub, {"schedule": schedule["id"]})
    store.emit("subscription_schedule.created", schedule)
    return schedule


def phase(start: int, end: int | None, price: Obj, metadata: Obj) -> Obj:
    return {
        "add_invoice_items": [],
        "application_fee_percent": None,
        "billing_cycle_anchor": None,
        "collection_method": None,
        "currency": price["currency"],
        "default_payment_method": None,
        "description": None,
        "discounts": [],
        "end_date": end,
        "items": [{"discounts": [], "metadata": {}, "price": price["id"], "quantity": 1}],
        "metadata": dict(metadata),
        "proration_behavior": "create_prorations",
        "start_date": start,
        "trial_end": None,
    }


def update(store: Store, schedule: Obj, params: Obj) -> Obj:
    if schedule["status"] not in EDITABLE:
        raise StripeError(
            "You cannot update a subscription schedule that is currently in the "
            f"`{schedule['status']}` status."
        )
    changes: Obj = {}
    if "end_behavior" in params:
        changes["end_behavior"] = params["end_behavior"]
    if "metadata" in params:
        changes["metadata"] = {k: v for k, v in (params["metadata"] or {}).items() if v}
    if "phases" in params:
        changes["phases"] = _phases(store, schedule, params["phases"] or [], params)
    return store.update(schedule, changes, "subscription_schedule.updated")


def _phases(store: Store, schedule: Obj, given: list[Obj], params: Obj) -> list[Obj]:
    current = schedule["current_phase"]
    if (
        not given
        or int(given[0].get("start_date") or current["start_date"]) != current["start_date"]
    ):
        raise StripeError(
            "You can not modify the start date of the current phase.", param="phases[0][start_date]"
        )
    phases: list[Obj] = []
    start = current["start_date"]
    for index, spec in enumerate(given):
        items = spec.get("items") or []
        if len(items) != 1:
            raise StripeError("The sandbox schedules one item per phase.", param=f"phases[{index}]")
        price = _price(store, items[0], index)
        end = _end(start, spec, price, index, last=index == len(given) - 1)
        made = phase(start, end, price, spec.get("metadata") or {})
        made["proration_behavior"] = spec.get("proration_behavior") or params.get(
            "proration_behavior", "create_prorations"
        )
        phases.append(made)
        start = end or start
    return phases


def _price(store: Store, item: Obj, index: int) -> Obj:
    where = f"phases[{index}][items][0]"
    if item.get("price"):
        return store.get(item["price"], "price", f"{where}[price]")
    data = item.get("price_data")
    if not data:
        raise StripeError.missing_param(f"{where}[price]")
    store.get(data.get("product", ""), "product", f"{where}[price_data][product]")
    return store.add(objects.price(store, data, data["product"]))


def _end(start: int, spec: Obj, price: Obj, index: int, last: bool) -> int | None:
    if spec.get("end_date"):
        end = int(spec["end_date"])
    elif spec.get("duration"):
        duration = spec["duration"]
        end = bo.period_end(start, duration["interval"], int(duration.get("interval_count", 1)))
    elif spec.get("iterations"):
        recurring = price["recurring"]
        end = bo.period_end(
            start, recurring["interval"], recurring["interval_count"] * int(spec["iterations"])
        )
    elif last:
        return None  # runs until released or canceled
    else:
        raise StripeError.missing_param(f"phases[{index}][end_date]")
    if end <= start:
        raise StripeError(
            "The end date of a phase must be after its start date.",
            param=f"phases[{index}][end_date]",
        )
    return end


def release(store: Store, schedule: Obj) -> Obj:
    """Detach the subscription, which keeps its current price; later phases never start."""
    if schedule["status"] not in EDITABLE:
        raise StripeError(
            f"You cannot release a subscription schedule that is in the `{schedule['status']}` "
            "status."
        )
    sub = store.get(schedule["subscription"], "subscription")
    store.update(sub, {"schedule": None})
    changes = {
        "status": "released",
        "released_at": store.now,
        "released_subscription": sub["id"],
        "current_phase": None,
    }
    return store.update(schedule, changes, "subscription_schedule.released")


def cancel_with(store: Store, sub: Obj) -> None:
    """A subscription canceled while scheduled takes its schedule with it."""
    if not sub.get("schedule"):
        return
    schedule = store.get(sub["schedule"], "subscription_schedule")
    if schedule["status"] in EDITABLE:
        changes = {"status": "canceled", "canceled_at": store.now, "current_phase": None}
        store.update(schedule, changes, "subscription_schedule.canceled")


def next_change(store: Store, sub: Obj) -> tuple[int, str, Obj] | None:
    """What the schedule does next at or before the end of the period: start a phase, or
    release the subscription after the last one."""
    if not sub.get("schedule"):
        return None
    schedule = store.objects.get(sub["schedule"])
    if schedule is None or schedule["status"] != "active":
        return None
    current = schedule["current_phase"]
    for item in schedule["phases"]:
        if item["start_date"] > current["start_date"]:
            return item["start_date"], "phase", schedule
    last_end = schedule["phases"][-1]["end_date"]
    return (last_end, "release", schedule) if last_end else None


def start_next_phase(store: Store, schedule: Obj, renew: Any) -> None:
    """The next phase begins (at the end of the paid period): the subscription takes its
    price and metadata, and its new period, at the new interval, is invoiced now."""
    current = schedule["current_phase"]
    upcoming = next(p for p in schedule["phases"] if p["start_date"] > current["start_date"])
    sub = store.get(schedule["subscription"], "subscription")
    price = store.get(upcoming["items"][0]["price"], "price")
    items = sub["items"]
    item = items["data"][0]
    item.update(price=price, plan=bo.plan(price), quantity=upcoming["items"][0]["quantity"])
    changes: Obj = {"items": items}
    if upcoming["metadata"]:
        changes["metadata"] = dict(upcoming["metadata"])
    store.update(sub, changes)
    store.update(
        schedule,
        {"current_phase": {"start_date": upcoming["start_date"], "end_date": upcoming["end_date"]}},
        "subscription_schedule.updated",
    )
    renew(store, sub)  # the period that ends now is followed by one at the new terms


def end(store: Store, schedule: Obj, renew: Any) -> None:
    """After the last phase, end_behavior=release: the subscription carries on alone."""
    sub = store.get(schedule["subscription"], "subscription")
    if schedule["end_behavior"] == "cancel":
        from membership.sandbox.billing import cancel

        cancel(store, sub, {"reason": "cancellation_requested"})
        return
    release(store, schedule)
    renew(store, sub)
