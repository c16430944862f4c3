"""Builders for Subscriptions, Invoices and their parts, in today's shapes (see README table)."""

from __future__ import annotations

from datetime import UTC, datetime

from membership.sandbox.store import Obj, Store, list_object


def period_end(start: int, interval: str, count: int = 1) -> int:
    """Calendar arithmetic as Stripe bills: same day next month/year, clamped to month end."""
    at = datetime.fromtimestamp(start, UTC)
    months = count * (12 if interval == "year" else 1) if interval in ("month", "year") else 0
    if not months:
        days = {"day": 1, "week": 7}[interval] * count
        return start + days * 86_400
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    for day in (at.day, 30, 29, 28):
        try:
            return int(at.replace(year=year, month=month, day=day).timestamp())
        except ValueError:
            continue
    raise AssertionError("unreachable")


def subscription(store: Store, customer_id: str, price: Obj, pm_id: str, metadata: Obj) -> Obj:
    sub_id = store.new_id("sub")
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": store.now,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": store.now,
        "currency": price["currency"],
        "customer": customer_id,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": pm_id,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": list_object(
            f"/v1/subscription_items?subscription={sub_id}", [item(store, sub_id, price)]
        ),
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": store.now,
        "status": "active",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def item(store: Store, sub_id: str, price: Obj, start: int | None = None) -> Obj:
    start = store.now if start is None else start
    recurring = price["recurring"]
    return {
        "id": store.new_id("si"),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": store.now,
        "current_period_end": period_end(start, recurring["interval"], recurring["interval_count"]),
        "current_period_start": start,
        "discounts": [],
        "metadata": {},
        "plan": plan(price),
        "price": price,
        "quantity": 1,
        "subscription": sub_id,
        "tax_rates": [],
    }


def plan(price: Obj) -> Obj:
    """The legacy `plan` view of a recurring price, still sent next to `price`."""
    return {
        "id": price["id"],
        "object": "plan",
        "active": True,
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price["created"],
        "currency": price["currency"],
        "interval": price["recurring"]["interval"],
        "interval_count": price["recurring"]["interval_count"],
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def invoice(store: Store, sub: Obj, customer: Obj, reason: str) -> Obj:
    in_id = store.new_id("in")
    si = sub["items"]["data"][0]
    amount = si["price"]["unit_amount"] * si["quantity"]
    number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
    customer["next_invoice_sequence"] += 1
    return {
        "id": in_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Sandbox Newsroom",
        "account_tax_ids": None,
        "amount_due": amount,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": amount,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": reason,
        "collection_method": "charge_automatically",
        "created": store.now,
        "currency": sub["currency"],
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": None,
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/sandbox/{in_id}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/sandbox/{in_id}/pdf",
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object(f"/v1/invoices/{in_id}/lines", [line(store, in_id, sub, si)]),
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": number,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]},
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": si["current_period_start"],
        "period_start": si["current_period_start"],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": dict.fromkeys(
            ["finalized_at", "marked_uncollectible_at", "paid_at", "voided_at"]
        ),
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "test_clock": None,
        "total": amount,
        "total_discount_amounts": [],
        "total_excluding_tax": amount,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }


def line(store: Store, in_id: str, sub: Obj, si: Obj) -> Obj:
    amount = si["price"]["unit_amount"] * si["quantity"]
    return {
        "id": store.new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": sub["currency"],
        "description": f"1 x Membership (at {amount} {sub['currency']} / {si['plan']['interval']})",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": in_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": si["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"end": si["current_period_end"], "start": si["current_period_start"]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": si["price"]["id"], "product": si["price"]["product"]},
            "type": "price_details",
            "unit_amount_decimal": si["price"]["unit_amount_decimal"],
        },
        "quantity": 1,
        "quantity_decimal": "1",
        "subscription": sub["id"],
        "subtotal": amount,
        "taxes": [],
    }


def invoice_payment(store: Store, inv: Obj, intent: Obj) -> Obj:
    return {
        "id": store.new_id("inpay"),
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": inv["amount_due"],
        "created": store.now,
        "currency": inv["currency"],
        "invoice": inv["id"],
        "is_default": True,
        "livemode": False,
        "payment": {"charge": None, "payment_intent": intent["id"], "type": "payment_intent"},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }
