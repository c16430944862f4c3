"""Another tool's history in the sandbox's Stripe account, made through its API as that tool
would (no metadata of this service): monthly and annual gifts, Payment Links one-offs, a
refund, a lost dispute, a merchandise subscription, a deleted customer, two customers who
share an email. Webhooks are not delivered: the service never heard of any of it, which is
what `flask stripe import` is for. `flask demo foreign-history` makes it in demo mode."""

from __future__ import annotations

from typing import Any

from stripe import StripeClient

from membership.sandbox import Sandbox

DONATION = "Donation (previous tool)"
MERCHANDISE = "Tote bag of the month"


def session(client: StripeClient, mode: str, product: str, amount: int, interval: str = "") -> Any:
    """`product`: a product id, or the name of a new product."""
    price: dict[str, Any] = {"currency": "usd", "unit_amount": amount}
    if product.startswith("prod_"):
        price["product"] = product
    else:
        price["product_data"] = {"name": product}
    if interval:
        price["recurring"] = {"interval": interval}
    params: Any = {
        "mode": mode,
        "success_url": "https://previous-tool.example/thanks",
        "line_items": [{"quantity": 1, "price_data": price}],
    }
    return client.v1.checkout.sessions.create(params=params)


def make(sandbox: Sandbox, donors: int = 12) -> dict[str, list[str]]:
    """The history, with the ids of what it made by kind (for the tests and the command);
    `made["donation_product"]`: the one product the previous tool sold gifts as."""
    client = sandbox.client()
    sandbox.webhooks.hold()
    made: dict[str, list[str]] = {"subscriptions": [], "one_offs": [], "merchandise": []}
    first = session(client, "payment", DONATION, 1000)
    items = client.v1.checkout.sessions.line_items.list(first.id).data
    product = str(items[0].price.product) if items and items[0].price else DONATION
    made["donation_product"] = [product]
    for n in range(donors):
        email = f"previous.donor{n}@example.org"
        if n % 3 == 0:
            sub = sandbox.pay(
                session(client, "subscription", product, 500 + 100 * n, "month").id, email=email
            )
            made["subscriptions"].append(sub["subscription"])
        elif n % 3 == 1:
            sub = sandbox.pay(
                session(client, "subscription", product, 6000, "year").id, email=email
            )
            made["subscriptions"].append(sub["subscription"])
        else:
            paid = sandbox.pay(session(client, "payment", product, 2500).id, email=email)
            made["one_offs"].append(paid["payment_intent"])
    # Two checkouts, two customers, one person (the email differs only in case).
    again = sandbox.pay(
        session(client, "payment", product, 1500).id, email="Previous.Donor0@example.org"
    )
    made["one_offs"].append(again["payment_intent"])
    merch = sandbox.pay(
        session(client, "subscription", MERCHANDISE, 1800, "month").id, email="shopper@example.org"
    )
    made["merchandise"].append(merch["subscription"])
    if made["one_offs"]:
        charge = client.v1.payment_intents.retrieve(made["one_offs"][0]).latest_charge
        client.v1.refunds.create(params={"charge": str(charge)})
    if len(made["one_offs"]) > 1:
        charge = str(client.v1.payment_intents.retrieve(made["one_offs"][1]).latest_charge)
        lost = sandbox.dispute(charge)
        sandbox.close_dispute(lost["id"], won=False)
    if len(made["subscriptions"]) > 1:
        client.v1.subscriptions.update(
            made["subscriptions"][1], params={"cancel_at_period_end": True}
        )
    sandbox.advance(days=31)  # the monthly gifts renew
    sandbox.webhooks.drop()
    sandbox.webhooks.release()
    return made
