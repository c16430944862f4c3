"""The Stripe endpoints the service uses, each a function from params to a Stripe object."""

from __future__ import annotations

import re

from stripe import params as p
from stripe.params import billing_portal, checkout

from membership.sandbox import billing, objects, payments, schedules
from membership.sandbox import payment_objects as po
from membership.sandbox.api import INCLUDABLE, paginate, route
from membership.sandbox.errors import StripeError
from membership.sandbox.store import Obj, Store, list_object

CUSTOMER_FIELDS = ("email", "name", "description", "phone")


@route("POST", "/customers", p.CustomerCreateParams)
def create_customer(store: Store, params: Obj) -> Obj:
    fields = {k: params[k] for k in CUSTOMER_FIELDS if k in params}
    customer = store.add(
        objects.customer(store, params.get("email"), metadata=params.get("metadata") or {}) | fields
    )
    store.emit("customer.created", customer)
    return customer


@route("GET", "/customers/<object_id>", p.CustomerRetrieveParams)
def retrieve_customer(store: Store, params: Obj, object_id: str) -> Obj:
    customer = store.get(object_id, "customer")
    # "Unlike other objects, deleted customers can still be retrieved through the API":
    # as `{id, object, deleted: true}` (https://docs.stripe.com/api/customers/delete).
    return deleted_stub(customer) if customer.get("_deleted") else customer


def deleted_stub(customer: Obj) -> Obj:
    return {"id": customer["id"], "object": "customer", "deleted": True}


def live_customer(store: Store, object_id: str, param: str = "id") -> Obj:
    """A customer that may still change: a deleted one "prevents any further operations"."""
    customer = store.get(object_id, "customer", param)
    if customer.get("_deleted"):
        raise StripeError.missing("customer", object_id, param)
    return customer


@route("DELETE", "/customers/<object_id>", p.CustomerDeleteParams)
def delete_customer(store: Store, params: Obj, object_id: str) -> Obj:
    """Permanently deletes the customer and "immediately cancels any active subscriptions"
    (https://docs.stripe.com/api/customers/delete); its payments stay."""
    customer = live_customer(store, object_id)
    for sub in store.all("subscription"):
        if sub["customer"] == customer["id"] and sub["status"] != "canceled":
            billing.cancel(store, sub, {})
    store.update(customer, {"_deleted": True})
    store.emit("customer.deleted", customer)
    return deleted_stub(customer)


@route("POST", "/customers/<object_id>", p.CustomerModifyParams)
def update_customer(store: Store, params: Obj, object_id: str) -> Obj:
    customer = live_customer(store, object_id)
    changes: Obj = {k: params[k] or None for k in CUSTOMER_FIELDS if k in params}
    if "metadata" in params:
        merged = customer["metadata"] | (params["metadata"] or {})
        changes["metadata"] = {k: v for k, v in merged.items() if v} if params["metadata"] else {}
    default_pm = (params.get("invoice_settings") or {}).get("default_payment_method")
    if default_pm:
        store.get(default_pm, "payment_method", "invoice_settings[default_payment_method]")
        changes["invoice_settings"] = customer["invoice_settings"] | {
            "default_payment_method": default_pm
        }
    return store.update(customer, changes, "customer.updated")


@route("GET", "/customers", p.CustomerListParams)
def list_customers(store: Store, params: Obj) -> Obj:
    found = [
        c
        for c in store.all("customer")
        if not c.get("_deleted") and params.get("email") in (None, c["email"])
    ]
    return paginate(found, params, "/v1/customers")


@route("GET", "/customers/search", p.CustomerSearchParams)
def search_customers(store: Store, params: Obj) -> Obj:
    match = re.fullmatch(r"""\s*email\s*:\s*(['"])(.*)\1\s*""", params.get("query", ""))
    if not match:
        raise StripeError("The sandbox searches customers by `email:'...'` only.", param="query")
    found = [
        c
        for c in store.all("customer")
        if not c.get("_deleted") and (c["email"] or "").lower() == match[2].lower()
    ]
    result = paginate(found, params, "/v1/customers/search")
    return result | {"object": "search_result", "next_page": None, "total_count": len(found)}


@route("POST", "/checkout/sessions", checkout.SessionCreateParams)
def create_checkout_session(store: Store, params: Obj) -> Obj:
    mode = params.get("mode") or "payment"
    if mode not in ("payment", "subscription"):
        raise StripeError.invalid(
            "mode", f"The sandbox does not implement `{mode}` mode.", "parameter_invalid_string"
        )
    if not params.get("success_url"):
        raise StripeError.missing_param("success_url")
    lines = [
        _line_item(store, line, mode, i) for i, line in enumerate(params.get("line_items") or [])
    ]
    if not lines:
        raise StripeError.missing_param("line_items")
    currency = lines[0]["currency"]
    amount = sum(line["amount_total"] for line in lines)
    session = po.checkout_session(
        store, params | {"mode": mode}, amount, currency, f"{store.public_url}/sandbox/checkout"
    )
    if session["customer"]:
        store.get(session["customer"], "customer", "customer")
    intent_data = params.get("payment_intent_data") or {}
    session.update(
        _line_items=lines,
        _payment_intent_metadata=intent_data.get("metadata"),
        _description=intent_data.get("description"),
        _subscription_metadata=(params.get("subscription_data") or {}).get("metadata"),
        _trial_days=(params.get("subscription_data") or {}).get("trial_period_days"),
    )
    return store.add(session)


def _line_item(store: Store, line: Obj, mode: str, index: int) -> Obj:
    if line.get("price"):
        price = store.get(line["price"], "price", f"line_items[{index}][price]")
    elif line.get("price_data"):
        data = line["price_data"]
        if data.get("product"):
            product_id = store.get(
                data["product"], "product", f"line_items[{index}][price_data][product]"
            )["id"]
        else:
            product_data = data.get("product_data") or {}
            name = product_data.get("name") or "Donation"
            made = objects.product(store, name, product_data.get("description") or None)
            product_id = store.add(made)["id"]
        if not str(data.get("unit_amount", "")).isdigit():
            raise StripeError.missing_param(f"line_items[{index}][price_data][unit_amount]")
        price = store.add(objects.price(store, data, product_id))
    else:
        raise StripeError.missing_param(f"line_items[{index}][price]")
    if (mode == "subscription") != bool(price["recurring"]):
        want = "recurring" if mode == "subscription" else "one-time"
        raise StripeError(
            f"You must provide {want} prices in `{mode}` mode.", param=f"line_items[{index}]"
        )
    quantity = int(line.get("quantity", 1))
    total = price["unit_amount"] * quantity
    return {
        "id": store.new_id("li"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": total,
        "amount_tax": 0,
        "amount_total": total,
        "currency": price["currency"],
        "description": store.objects[price["product"]]["name"],
        "metadata": {},
        "price": price,
        "quantity": quantity,
    }


INCLUDABLE[("checkout.session", "line_items")] = lambda store, session: list_object(
    f"/v1/checkout/sessions/{session['id']}/line_items", session.get("_line_items", [])
)
INCLUDABLE[("invoice", "payments")] = lambda store, invoice: list_object(
    f"/v1/invoice_payments?invoice={invoice['id']}",
    [store.objects[i] for i in reversed(invoice.get("_payments", []))],
)


@route("GET", "/checkout/sessions", checkout.SessionListParams)
def list_checkout_sessions(store: Store, params: Obj) -> Obj:
    """Newest first, filtered by payment intent, subscription, customer or status."""
    wanted = {
        k: params[k]
        for k in ("payment_intent", "subscription", "customer", "status")
        if k in params
    }
    found = [
        s
        for s in store.all("checkout.session")
        if all(s.get(key) == value for key, value in wanted.items())
    ]
    return paginate(found, params, "/v1/checkout/sessions")


@route("GET", "/checkout/sessions/<object_id>", checkout.SessionRetrieveParams)
def retrieve_checkout_session(store: Store, params: Obj, object_id: str) -> Obj:
    return store.get(object_id, "checkout.session")


@route("POST", "/checkout/sessions/<object_id>/expire", checkout.SessionExpireParams)
def expire_checkout_session(store: Store, params: Obj, object_id: str) -> Obj:
    session = store.get(object_id, "checkout.session")
    if session["status"] != "open":
        raise StripeError('Only Checkout Sessions with a status in ["open"] can be expired.')
    store.update(session, {"status": "expired"})
    store.emit("checkout.session.expired", session)
    return session


@route("GET", "/checkout/sessions/<object_id>/line_items", checkout.SessionListLineItemsParams)
def list_checkout_line_items(store: Store, params: Obj, object_id: str) -> Obj:
    session = store.get(object_id, "checkout.session")
    return paginate(session["_line_items"], params, f"/v1/checkout/sessions/{object_id}/line_items")


@route("POST", "/refunds", p.RefundCreateParams)
def create_refund(store: Store, params: Obj) -> Obj:
    return payments.refund(store, params)


@route("POST", "/subscriptions/<object_id>", p.SubscriptionModifyParams)
def update_subscription(store: Store, params: Obj, object_id: str) -> Obj:
    return billing.update(store, store.get(object_id, "subscription"), params)


@route("DELETE", "/subscriptions/<object_id>", p.SubscriptionCancelParams)
def cancel_subscription(store: Store, params: Obj, object_id: str) -> Obj:
    details = params.get("cancellation_details") or {}
    return billing.cancel(store, store.get(object_id, "subscription"), details)


@route("POST", "/subscription_schedules", p.SubscriptionScheduleCreateParams)
def create_schedule(store: Store, params: Obj) -> Obj:
    return schedules.create(store, params)


@route("GET", "/subscription_schedules/<object_id>", p.SubscriptionScheduleRetrieveParams)
def retrieve_schedule(store: Store, params: Obj, object_id: str) -> Obj:
    return store.get(object_id, "subscription_schedule")


@route("POST", "/subscription_schedules/<object_id>", p.SubscriptionScheduleUpdateParams)
def update_schedule(store: Store, params: Obj, object_id: str) -> Obj:
    return schedules.update(store, store.get(object_id, "subscription_schedule"), params)


@route("POST", "/subscription_schedules/<object_id>/release", p.SubscriptionScheduleReleaseParams)
def release_schedule(store: Store, params: Obj, object_id: str) -> Obj:
    return schedules.release(store, store.get(object_id, "subscription_schedule"))


@route("POST", "/billing_portal/sessions", billing_portal.SessionCreateParams)
def create_portal_session(store: Store, params: Obj) -> Obj:
    if not params.get("customer"):
        raise StripeError.missing_param("customer")
    customer = store.get(params["customer"], "customer", "customer")
    url = f"{store.public_url}/sandbox/portal"
    session = objects.billing_portal_session(store, customer["id"], params.get("return_url"), url)
    return store.add(session)
