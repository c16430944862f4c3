"""The hosted pages a browser visits in the sandbox: Checkout and a minimal billing portal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, abort, redirect, render_template, request
from werkzeug.wrappers import Response

from membership.sandbox import payments
from membership.sandbox.errors import StripeError
from membership.sandbox.objects import ZERO_DECIMAL
from membership.sandbox.store import Obj, Store

if TYPE_CHECKING:
    from membership.sandbox import Sandbox


def format_amount(amount: int, currency: str) -> str:
    """Minor units to a display string without floats: 1050 usd -> "10.50 USD"."""
    if currency in ZERO_DECIMAL:
        return f"{amount:,} {currency.upper()}"
    major, minor = divmod(amount, 100)
    return f"{major:,}.{minor:02d} {currency.upper()}"


def create_blueprint(sandbox: Sandbox) -> Blueprint:
    bp = Blueprint("sandbox_pages", __name__, url_prefix="/sandbox")
    store = sandbox.store

    def find(object_id: str, object_name: str) -> Obj:
        try:
            return store.get(object_id, object_name)
        except StripeError:
            abort(404)

    @bp.get("/checkout/<session_id>")
    def checkout(session_id: str) -> str:
        with store.lock:
            session = find(session_id, "checkout.session")
            return _render(store, session, session.get("customer_email") or "", error=None)

    @bp.post("/checkout/<session_id>")
    def pay(session_id: str) -> Response | tuple[str, int]:
        email = request.form.get("email", "").strip()
        name = request.form.get("name", "").strip() or None
        card = "".join(request.form.get("card_number", "").split())
        with store.lock:
            session = find(session_id, "checkout.session")
            if "@" not in email:
                return _render(store, session, email, "Your email address is incomplete."), 400
            if len(card) != 16 or not card.isdigit():
                return _render(store, session, email, "Your card number is incomplete."), 400
            try:
                payments.complete_checkout(store, session, email, name, card)
            except StripeError as exc:
                return _render(store, session, email, exc.body["message"]), exc.status
        sandbox.webhooks.flush()
        target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        return redirect(target, code=303)

    @bp.get("/portal/<session_id>")
    def portal(session_id: str) -> str:
        with store.lock:
            session = find(session_id, "billing_portal.session")
            customer = store.get(session["customer"], "customer")
            subscriptions = [
                s for s in store.all("subscription") if s["customer"] == customer["id"]
            ]
        return render_template(
            "sandbox/portal.html",
            session=session,
            customer=customer,
            subscriptions=subscriptions,
            format_amount=format_amount,
        )

    return bp


def _render(store: Store, session: Obj, email: str, error: str | None) -> str:
    lines = session["_line_items"]
    interval = (
        lines[0]["price"]["recurring"]["interval"] if session["mode"] == "subscription" else None
    )
    return render_template(
        "sandbox/checkout.html",
        session=session,
        lines=lines,
        descriptions=[store.objects[line["price"]["product"]]["description"] for line in lines],
        email=email,
        error=error,
        interval=interval,
        total=format_amount(session["amount_total"], session["currency"]),
    )
