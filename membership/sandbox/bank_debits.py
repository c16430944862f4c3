"""SEPA Direct Debit, Stripe's delayed payment method: paid now, settled (or not) later.

Checkout completes with the payment still processing (`payment_status: "unpaid"`); when the
bank answers, Stripe sends `checkout.session.async_payment_succeeded` or `..._failed`. Here
the bank answers SETTLE_SECONDS after the payment, when the sandbox's clock gets there.
"""

from __future__ import annotations

from membership.sandbox import objects
from membership.sandbox import payment_objects as po
from membership.sandbox.errors import StripeError
from membership.sandbox.store import Obj, Store, public

# Stripe's test IBANs: https://docs.stripe.com/payments/sepa-debit/accept-a-payment#testing
SUCCEEDS = frozenset({"DE89370400440532013000", "AT611904300234573201"})
FAILS = frozenset({"DE62370400440532013001", "AT861904300235473202"})
FAILURE = (
    "insufficient_funds",
    "The customer's account has insufficient funds to cover this payment.",
)
SETTLE_SECONDS = 180  # Stripe's test mode answers in minutes; a real bank in days


def check(session: Obj, iban: str) -> None:
    """Refuse what Stripe's hosted page would not offer: bank debit only where the session does."""
    if "sepa_debit" not in session["payment_method_types"]:
        raise StripeError(
            "This Checkout Session does not accept SEPA Direct Debit (EUR one-off payments only).",
            param="payment_method_types",
        )
    if iban not in SUCCEEDS | FAILS:
        raise StripeError(
            "The IBAN is not one of Stripe's test IBANs.", code="invalid_bank_account_iban"
        )


def debit(store: Store, intent: Obj, pm: Obj) -> Obj:
    """Submit the debit: the intent is processing and its charge pending until the bank answers."""
    ch = store.add(po.charge(store, intent, pm, po.outcome(None), None))
    details = objects.sepa_details(pm["_card"]) | {"mandate": store.new_id("mandate")}
    ch.update(
        status="pending",
        paid=False,
        payment_method_details={"sepa_debit": details, "type": "sepa_debit"},
    )
    intent.update(
        status="processing",
        payment_method=pm["id"],
        payment_method_types=["card", "sepa_debit"],
        latest_charge=ch["id"],
        _settles_at=store.now + SETTLE_SECONDS,
    )
    store.emit("payment_intent.processing", intent)
    store.emit("charge.pending", ch)
    return ch


def settle(store: Store, intent: Obj) -> None:
    """The bank's answer: the money arrives (or not), then the Checkout Session hears of it."""
    ch = store.get(intent["latest_charge"], "charge")
    session = next(
        (s for s in store.all("checkout.session") if s["payment_intent"] == intent["id"]), None
    )
    if store.get(intent["payment_method"], "payment_method")["_card"] in FAILS:
        code, message = FAILURE
        ch.update(status="failed", failure_code=code, failure_message=message)
        intent.update(
            status="requires_payment_method",
            last_payment_error={"code": code, "message": message, "type": "invalid_request_error"},
        )
        store.emit("charge.failed", ch)
        store.emit("payment_intent.payment_failed", intent)
        if session is not None:
            store.emit("checkout.session.async_payment_failed", public(session))
        return
    txn = store.add(
        objects.balance_transaction(store, ch["id"], ch["amount"], ch["currency"], "charge")
    )
    ch.update(status="succeeded", paid=True, balance_transaction=txn["id"])
    intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
    store.emit("charge.succeeded", ch)
    store.emit("payment_intent.succeeded", intent)
    if session is not None:
        session["payment_status"] = "paid"
        store.emit("checkout.session.async_payment_succeeded", public(session))
