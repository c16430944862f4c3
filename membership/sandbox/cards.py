"""Stripe's test cards and what charging one does: a charge, its fee, or a decline."""

from __future__ import annotations

import copy

from membership.sandbox import objects
from membership.sandbox import payment_objects as po
from membership.sandbox.store import Obj, Store

# Stripe's documented test cards: https://docs.stripe.com/testing#declined-payments
DECLINES = {
    "4000000000000002": ("generic_decline", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("lost_card", "Your card was declined."),
    "4000000000000341": ("generic_decline", "Your card was declined."),
}
SUCCEEDS = frozenset({"4242424242424242", "4000056655665556", "5555555555554444"})


def decline_for(card_number: str) -> tuple[str, str] | None:
    """None when the card pays; else Stripe's decline code and message."""
    if card_number in SUCCEEDS:
        return None
    return DECLINES.get(
        card_number,
        (
            "test_mode_live_card",
            "Your card was declined. Your request was in test mode, "
            "but used a non test (live) card.",
        ),
    )


def charge(store: Store, intent: Obj, pm: Obj) -> Obj:
    """Confirm `intent` with `pm`: a paid charge with its fee, or a failed one, with events."""
    decline = decline_for(pm["_card"])
    ch = store.add(
        po.charge(
            store,
            intent,
            pm,
            po.outcome(decline and decline[0]),
            decline and ("card_declined", decline[1]),
        )
    )
    intent.update(payment_method=pm["id"], latest_charge=ch["id"])
    if decline:
        intent.update(
            status="requires_payment_method",
            last_payment_error={
                "charge": ch["id"],
                "code": "card_declined",
                "decline_code": decline[0],
                "message": decline[1],
                "payment_method": copy.deepcopy(pm),
                "type": "card_error",
            },
        )
        store.emit("charge.failed", ch)
        store.emit("payment_intent.payment_failed", intent)
        return ch
    txn = store.add(
        objects.balance_transaction(store, ch["id"], ch["amount"], ch["currency"], "charge")
    )
    ch["balance_transaction"] = txn["id"]
    intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
    store.emit("charge.succeeded", ch)
    store.emit("payment_intent.succeeded", intent)
    return ch
