"""What happens to money in the sandbox: checkout completion, refunds, disputes."""

from __future__ import annotations

from typing import Any

from membership.sandbox import bank_debits, billing, cards, objects
from membership.sandbox import payment_objects as po
from membership.sandbox.errors import StripeError
from membership.sandbox.store import Obj, Store, public


def complete_checkout(
    store: Store, session: Obj, email: str, name: str | None, card: str, iban: str | None = None
) -> Obj:
    """Pay an open session as the hosted page does, by card or (`iban`) by SEPA Direct Debit,
    which completes it unpaid until the bank answers; a decline raises and leaves it open."""
    if session["status"] != "open":
        raise StripeError(
            "This Checkout Session is no longer open.", code="checkout_session_not_open"
        )
    if iban is not None:
        bank_debits.check(session, iban)
    decline = None if iban else cards.decline_for(card)
    if decline:
        raise StripeError.card_declined(decline[0], decline[1], None)
    customer = _customer_for(store, session, email, name)
    pm = store.add(
        objects.bank_debit_method(store, iban, email, name)
        if iban
        else objects.payment_method(store, card, email, name)
    )
    if customer:
        pm["customer"] = customer["id"]
        store.emit("payment_method.attached", pm)
    if session["mode"] == "subscription":
        assert customer is not None
        store.update(
            customer,
            {
                "invoice_settings": customer["invoice_settings"]
                | {"default_payment_method": pm["id"]}
            },
            "customer.updated",
        )
        price = session["_line_items"][0]["price"]
        metadata = session.get("_subscription_metadata") or {}
        trial = int(session.get("_trial_days") or 0)
        sub = billing.start_subscription(store, customer, price, pm, metadata, trial)
        session.update(subscription=sub["id"], invoice=sub["latest_invoice"])
    else:
        intent = store.add(
            po.payment_intent(
                store,
                session["amount_total"],
                session["currency"],
                customer["id"] if customer else None,
                metadata=session.get("_payment_intent_metadata") or {},
                description=session.get("_description"),
            )
        )
        store.emit("payment_intent.created", intent)
        if iban:
            bank_debits.debit(store, intent, pm)
        else:
            cards.charge(store, intent, pm)
        session["payment_intent"] = intent["id"]
    session.update(
        status="complete",
        payment_status="unpaid" if iban else "paid",
        customer=customer and customer["id"],
        customer_details={
            "address": None,
            "business_name": None,
            "email": email,
            "individual_name": None,
            "name": name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
    )
    store.emit("checkout.session.completed", public(session))
    return session


def _customer_for(store: Store, session: Obj, email: str, name: str | None) -> Obj | None:
    if session["customer"]:
        return store.get(session["customer"], "customer")
    if session["mode"] == "payment" and session["customer_creation"] == "if_required":
        return None
    customer = store.add(objects.customer(store, email, name))
    store.emit("customer.created", customer)
    return customer


def refund(store: Store, params: dict[str, Any]) -> Obj:
    if params.get("charge"):
        ch = store.get(params["charge"], "charge", "charge")
    elif params.get("payment_intent"):
        intent = store.get(params["payment_intent"], "payment_intent", "payment_intent")
        if not intent["latest_charge"] or intent["status"] != "succeeded":
            raise StripeError(
                "This PaymentIntent does not have a successful charge to refund.",
                param="payment_intent",
            )
        ch = store.get(intent["latest_charge"], "charge")
    else:
        raise StripeError.missing_param("charge")
    remaining = ch["amount_captured"] - ch["amount_refunded"]
    amount = int(params.get("amount") or remaining)
    if remaining <= 0:
        raise StripeError(
            f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded"
        )
    if amount <= 0 or amount > remaining:
        raise StripeError(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining}).",
            param="amount",
            code="amount_too_large",
        )
    re = store.add(po.refund(store, ch, amount, params.get("reason"), params.get("metadata") or {}))
    txn = store.add(objects.balance_transaction(store, re["id"], -amount, ch["currency"], "refund"))
    re["balance_transaction"] = txn["id"]
    ch["refunds"]["data"].insert(0, re)
    store.emit("refund.created", re)
    store.update(
        ch,
        {"amount_refunded": ch["amount_refunded"] + amount, "refunded": amount == remaining},
        "charge.refunded",
    )
    return re


def dispute(store: Store, charge_id: str, reason: str = "fraudulent") -> Obj:
    ch = store.get(charge_id, "charge", "charge")
    dp = store.add(objects.dispute(store, ch, reason))
    store.update(ch, {"disputed": True})
    store.emit("charge.dispute.created", dp)
    return dp


def close_dispute(store: Store, dispute_id: str, won: bool) -> Obj:
    dp = store.get(dispute_id, "dispute")
    return store.update(dp, {"status": "won" if won else "lost"}, "charge.dispute.closed")
