"""Read-only endpoints: retrieve by id and list with Stripe's filters, for every stored type."""

from __future__ import annotations

from stripe import params as p

from membership.sandbox.api import paginate, route
from membership.sandbox.store import Obj, Store, list_object

# url segment -> (object name, retrieve params, list params, list filters that match a field)
READABLE: dict[str, tuple[str, type, type | None, tuple[str, ...]]] = {
    "payment_intents": (
        "payment_intent",
        p.PaymentIntentRetrieveParams,
        p.PaymentIntentListParams,
        ("customer",),
    ),
    "charges": (
        "charge",
        p.ChargeRetrieveParams,
        p.ChargeListParams,
        ("customer", "payment_intent"),
    ),
    "refunds": ("refund", p.RefundRetrieveParams, p.RefundListParams, ("charge", "payment_intent")),
    "invoices": ("invoice", p.InvoiceRetrieveParams, p.InvoiceListParams, ("customer", "status")),
    "invoice_payments": (
        "invoice_payment",
        p.InvoicePaymentRetrieveParams,
        p.InvoicePaymentListParams,
        ("invoice",),
    ),
    "subscriptions": (
        "subscription",
        p.SubscriptionRetrieveParams,
        p.SubscriptionListParams,
        ("customer",),
    ),
    "balance_transactions": (
        "balance_transaction",
        p.BalanceTransactionRetrieveParams,
        p.BalanceTransactionListParams,
        ("source", "type"),
    ),
    "payment_methods": ("payment_method", p.PaymentMethodRetrieveParams, None, ()),
    "prices": ("price", p.PriceRetrieveParams, None, ()),
    "products": ("product", p.ProductRetrieveParams, None, ()),
    "disputes": (
        "dispute",
        p.DisputeRetrieveParams,
        p.DisputeListParams,
        ("charge", "payment_intent"),
    ),
    "events": ("event", p.EventRetrieveParams, None, ()),
}


def _register(
    segment: str, object_name: str, retrieve: type, listing: type | None, filters: tuple[str, ...]
) -> None:
    def retrieve_one(store: Store, params: Obj, object_id: str) -> Obj:
        return store.get(object_id, object_name)

    def list_all(store: Store, params: Obj) -> Obj:
        return page_of(store, object_name, params, filters, f"/v1/{segment}")

    retrieve_one.__name__ = f"retrieve_{object_name}"
    list_all.__name__ = f"list_{segment}"
    route("GET", f"/{segment}/<object_id>", retrieve)(retrieve_one)
    if listing is not None:
        route("GET", f"/{segment}", listing)(list_all)


def page_of(store: Store, object_name: str, params: Obj, filters: tuple[str, ...], url: str) -> Obj:
    """One page of a list, read from the cursor on: `limit` objects that match (and one more to
    know whether there are more), so paging through a large account costs a page a call."""
    ordered, place = store.listing(object_name)
    limit = min(max(int(params.get("limit", 10)), 1), 100)
    before = params.get("ending_before")
    if before in place and not params.get("starting_after"):
        found = []
        for n in range(place[before] - 1, -1, -1):
            if _matches(obj := ordered[n], params, filters):
                found.append(obj)
                if len(found) > limit:
                    break
        return list_object(url, found[:limit][::-1], has_more=len(found) > limit)
    start = place[params["starting_after"]] + 1 if params.get("starting_after") in place else 0
    found = []
    for n in range(start, len(ordered)):
        if _matches(obj := ordered[n], params, filters):
            found.append(obj)
            if len(found) > limit:
                break
    return list_object(url, found[:limit], has_more=len(found) > limit)


CREATED_OPS = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}


def created_in(obj: Obj, created: Obj) -> bool:
    """`created[gte]=...` and its kin, as every list endpoint takes them."""
    return all(CREATED_OPS[op](obj.get("created", 0), int(v)) for op, v in created.items())


def _matches(obj: Obj, params: Obj, filters: tuple[str, ...]) -> bool:
    created = params.get("created")
    if isinstance(created, dict) and not created_in(obj, created):
        return False
    for name in filters:
        if name in params and obj.get(name) != params[name]:
            return False
    payment = params.get("payment")
    if isinstance(payment, dict) and obj["object"] == "invoice_payment":
        # "payment[type]=payment_intent&payment[payment_intent]=pi_..." (List invoice payments)
        return all(obj["payment"].get(key) == value for key, value in payment.items())
    if "subscription" in params and obj["object"] == "invoice":
        parent = obj["parent"]["subscription_details"] or {}
        return parent.get("subscription") == params["subscription"]
    if obj["object"] == "subscription":
        wanted = params.get("status")
        return obj["status"] != "canceled" if wanted is None else wanted in ("all", obj["status"])
    return True


for _segment, _spec in READABLE.items():
    _register(_segment, *_spec)


@route("GET", "/events", p.EventListParams)
def list_events(store: Store, params: Obj) -> Obj:
    """Newest first, filtered by `created`, `type` (with a trailing `*`), `types` and delivery."""
    events = list(reversed(store.events))
    created = params.get("created")
    if isinstance(created, dict):
        events = [e for e in events if created_in(e, created)]
    elif created:
        events = [e for e in events if e["created"] == int(created)]
    kind = params.get("type")
    if kind:
        events = [
            e
            for e in events
            if e["type"] == kind or (kind.endswith("*") and e["type"].startswith(kind[:-1]))
        ]
    if params.get("types"):
        events = [e for e in events if e["type"] in params["types"]]
    if "delivery_success" in params:
        wanted = params["delivery_success"] == "true"
        events = [
            e
            for e in events
            if (e["pending_webhooks"] == 0 and bool(e.get("_delivered"))) == wanted
        ]
    return paginate(events, params, "/v1/events")
