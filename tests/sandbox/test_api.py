"""The sandbox's /v1 API through the real stripe library: params, errors, idempotency, expand."""

from __future__ import annotations

import pytest
import stripe

from membership.sandbox import Sandbox


def test_customers_create_retrieve_update_and_find_by_email(stripe_client, sandbox):
    created = stripe_client.v1.customers.create(
        params={"email": "ada@example.com", "metadata": {"src": "t"}}
    )
    assert created.id.startswith("cus_") and created.email == "ada@example.com"
    updated = stripe_client.v1.customers.update(created.id, params={"name": "Ada"})
    assert updated.name == "Ada"
    assert stripe_client.v1.customers.retrieve(created.id).metadata.to_dict() == {"src": "t"}
    listed = stripe_client.v1.customers.list(params={"email": "ada@example.com"})
    assert [c.id for c in listed.data] == [created.id]
    found = stripe_client.v1.customers.search(params={"query": "email:'ADA@example.com'"})
    assert [c.id for c in found.data] == [created.id]
    assert sandbox.event_types() == ["customer.created", "customer.updated"]


def test_same_idempotency_key_and_params_replays_the_first_response(stripe_client, sandbox):
    options = {"idempotency_key": "gift-1"}
    first = stripe_client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    again = stripe_client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    assert again.id == first.id
    assert sandbox.event_types() == ["customer.created"]


def test_same_idempotency_key_with_other_params_is_an_idempotency_error(stripe_client):
    options = {"idempotency_key": "gift-2"}
    stripe_client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create(params={"email": "b@example.com"}, options=options)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"emial": "typo@example.com"}, "emial"),
        (
            {"invoice_settings": {"default_payment_methd": "pm_1"}},
            "invoice_settings[default_payment_methd]",
        ),
    ],
)
def test_unknown_params_are_rejected_like_stripe(stripe_client, params, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.create(params=params)
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == param
    assert caught.value.http_status == 400


def test_unknown_nested_param_in_checkout_line_items(stripe_client, line_item):
    bad = line_item()
    bad["price_data"]["amount"] = 5
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.checkout.sessions.create(
            params={"mode": "payment", "success_url": "https://x", "line_items": [bad]}
        )
    assert caught.value.param == "line_items[0][price_data][amount]"


def test_missing_objects_are_404_resource_missing(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.subscriptions.retrieve("sub_missing")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert caught.value.json_body["error"]["type"] == "invalid_request_error"


def test_live_keys_and_missing_keys_are_refused(sandbox: Sandbox):
    # Assembled so secret scanners do not mistake this obvious fake for a leaked key.
    fake_live_key = "sk_" + "live_" + "definitely_not"
    with pytest.raises(stripe.AuthenticationError):
        sandbox.client(fake_live_key).v1.customers.list()


def test_checkout_session_shape_and_expire(stripe_client, open_session, sandbox):
    session = open_session(customer_email="r@example.com", metadata={"campaign": "spring"})
    assert session.id.startswith("cs_test_")
    assert (session.status, session.mode, session.submit_type) == ("open", "payment", "donate")
    assert session.amount_total == 1500 and session.url.endswith(f"/sandbox/checkout/{session.id}")
    expanded = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["line_items"]}
    )
    assert expanded.line_items.data[0].price.unit_amount == 1500
    expired = stripe_client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert sandbox.event_types() == ["checkout.session.expired"]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.checkout.sessions.expire(session.id)


def test_payment_mode_rejects_recurring_prices(stripe_client, line_item):
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "success_url": "https://x",
                "line_items": [line_item(interval="month")],
            }
        )


def test_refunds_full_partial_and_too_much(stripe_client, open_session, sandbox):
    session = sandbox.pay(open_session().id)
    intent = stripe_client.v1.payment_intents.retrieve(session["payment_intent"])
    partial = stripe_client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
    assert partial.id.startswith("re_") and partial.amount == 500
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 1001})
    assert caught.value.param == "amount"
    rest = stripe_client.v1.refunds.create(params={"charge": intent.latest_charge})
    assert rest.amount == 1000
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1500, True)
    assert sandbox.event_types().count("charge.refunded") == 2


def test_subscription_update_pause_and_cancel(stripe_client, open_session, sandbox):
    session = sandbox.pay(open_session("subscription").id)
    sub = stripe_client.v1.subscriptions.retrieve(session["subscription"])
    item = sub["items"].data[0]
    changed = stripe_client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [
                {
                    "id": item.id,
                    "price_data": {
                        "currency": "usd",
                        "product": item.price.product,
                        "unit_amount": 5000,
                        "recurring": {"interval": "year"},
                    },
                }
            ],
            "proration_behavior": "none",
        },
    )
    new_item = changed["items"].data[0]
    assert (new_item.price.unit_amount, new_item.price.recurring.interval) == (5000, "year")
    # Another interval starts a new billing period now (test_schedules.py).
    assert new_item.current_period_start == sandbox.now
    paused = stripe_client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void"}}
    )
    assert paused.pause_collection.behavior == "void"
    resumed = stripe_client.v1.subscriptions.update(sub.id, params={"pause_collection": ""})
    assert resumed.pause_collection is None
    at_end = stripe_client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert at_end.cancel_at_period_end and at_end.cancel_at == new_item.current_period_end
    canceled = stripe_client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled"
    assert sandbox.event_types()[-1] == "customer.subscription.deleted"
    updated = sandbox.events("customer.subscription.updated")[-1]
    assert "cancel_at_period_end" in updated["data"]["previous_attributes"]


def test_a_canceled_subscription_is_missing_to_a_second_cancel_but_still_readable(
    stripe_client, open_session, sandbox
):
    """As Stripe answers (stripe/stripe-go#1887): 404 resource_missing, not a 400 whose
    wording a caller could key on."""
    sub_id = sandbox.pay(open_session("subscription").id)["subscription"]
    stripe_client.v1.subscriptions.cancel(sub_id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.subscriptions.cancel(sub_id)
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert stripe_client.v1.subscriptions.retrieve(sub_id).status == "canceled"


def test_a_deleted_customer_is_a_stub_that_takes_no_changes(stripe_client, open_session, sandbox):
    session = sandbox.pay(open_session("subscription").id, email="gone@example.com")
    deleted = stripe_client.v1.customers.delete(session["customer"])
    assert deleted.to_dict() == {"id": session["customer"], "object": "customer", "deleted": True}
    # Deleting a customer "immediately cancels any active subscriptions".
    assert stripe_client.v1.subscriptions.retrieve(session["subscription"]).status == "canceled"
    assert stripe_client.v1.customers.retrieve(session["customer"]).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.update(session["customer"], params={"name": "Back"})
    assert caught.value.code == "resource_missing"
    assert stripe_client.v1.customers.list(params={"email": "gone@example.com"}).data == []
    assert "customer.deleted" in sandbox.event_types()


def test_billing_portal_session(stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "p@example.com"})
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "https://news.example/account"}
    )
    assert portal.id.startswith("bps_") and portal.url.endswith(f"/sandbox/portal/{portal.id}")


def test_events_list_filters(stripe_client, open_session, sandbox, inbox):
    sandbox.pay(open_session().id)
    inbox.status = 404
    stripe_client.v1.customers.create(params={"email": "late@example.com"})
    by_type = stripe_client.v1.events.list(params={"type": "charge.*"})
    assert [e.type for e in by_type.data] == ["charge.succeeded"]
    failed = stripe_client.v1.events.list(params={"delivery_success": False})
    assert [e.type for e in failed.data] == ["customer.created"]
    assert len(stripe_client.v1.events.list(params={"delivery_success": True}).data) == 6
    sandbox.advance(days=1)
    stripe_client.v1.customers.create(params={"email": "later@example.com"})
    recent = stripe_client.v1.events.list(params={"created": {"gte": sandbox.now}})
    assert len(recent.data) == 1
    assert stripe_client.v1.events.retrieve(recent.data[0].id).type == "customer.created"
