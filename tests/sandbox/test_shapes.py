"""Every object the sandbox returns has the field set of Stripe's published fixture for its type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = json.loads(
    (Path(__file__).parents[1] / "fixtures/stripe/fixtures3_trimmed.json").read_text()
)["resources"]
# Fields the fixture (API 2026-07-29) still shows but the pinned library's resource class no
# longer declares (API 2026-10-28.endive); today's shape is `parent.subscription_details`.
GONE = {"invoice": {"subscription"}}
# Fields Stripe only sends when asked with expand[] (includable), shown here because we asked.
INCLUDED = {"checkout.session": {"line_items"}, "invoice": {"payments"}}


@pytest.fixture
def every_object(sandbox, open_session, stripe_client):
    """One of each object type, reached through the API with the includable fields expanded."""
    sandbox.pay(open_session(customer_creation="always").id)
    paid = sandbox.pay(open_session("subscription").id)
    sub = stripe_client.v1.subscriptions.retrieve(paid["subscription"])
    invoice = stripe_client.v1.invoices.retrieve(
        sub.latest_invoice, params={"expand": ["payments"]}
    )
    intent = stripe_client.v1.payment_intents.retrieve(
        invoice.payments.data[0].payment.payment_intent
    )
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    refund = stripe_client.v1.refunds.create(params={"charge": charge.id, "amount": 100})
    dispute = sandbox.dispute(charge.id)
    session = stripe_client.v1.checkout.sessions.retrieve(
        paid["id"], params={"expand": ["line_items"]}
    )
    price = sub["items"].data[0].price
    found = {
        "checkout.session": session,
        "item": session.line_items.data[0],
        "customer": stripe_client.v1.customers.retrieve(sub.customer),
        "subscription": sub,
        "subscription_item": sub["items"].data[0],
        "plan": sub["items"].data[0].plan,
        "price": price,
        "product": stripe_client.v1.products.retrieve(price.product),
        "invoice": invoice,
        "line_item": invoice.lines.data[0],
        "invoice_payment": invoice.payments.data[0],
        "payment_intent": intent,
        "charge": charge,
        "balance_transaction": stripe_client.v1.balance_transactions.retrieve(
            charge.balance_transaction
        ),
        "refund": refund,
        "payment_method": stripe_client.v1.payment_methods.retrieve(charge.payment_method),
        "dispute": stripe_client.v1.disputes.retrieve(dispute["id"]),
        "billing_portal.session": stripe_client.v1.billing_portal.sessions.create(
            params={"customer": sub.customer}
        ),
        "event": stripe_client.v1.events.list(params={"limit": 1}).data[0],
    }
    return {name: obj.to_dict() for name, obj in found.items()}


@pytest.mark.parametrize("object_name", sorted(FIXTURES))
def test_field_set_matches_stripes_fixture(every_object, object_name):
    obj = every_object[object_name]
    expected = set(FIXTURES[object_name]) - GONE.get(object_name, set())
    assert obj["object"] == FIXTURES[object_name]["object"]
    assert set(obj) - INCLUDED.get(object_name, set()) == expected


def test_invoice_reaches_subscription_and_payments_the_current_way(every_object):
    invoice = every_object["invoice"]
    assert "subscription" not in invoice and "payment_intent" not in invoice
    assert invoice["parent"]["subscription_details"]["subscription"].startswith("sub_")
    assert "current_period_end" not in every_object["subscription"]
