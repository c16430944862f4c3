"""Builders for Checkout Sessions, PaymentIntents, Charges and Refunds in their Stripe shape."""

from __future__ import annotations

from typing import Any

from membership.sandbox.objects import ADDRESS, card_details
from membership.sandbox.store import Obj, Store, list_object


def checkout_session(
    store: Store, params: dict[str, Any], amount: int, currency: str, url: str
) -> Obj:
    cs_id = store.new_id("cs_test")
    mode = params["mode"]
    return {
        "id": cs_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": params.get("billing_address_collection"),
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": store.now,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": params.get("customer"),
        "customer_account": None,
        "customer_creation": params.get(
            "customer_creation", "always" if mode == "payment" else None
        ),
        "customer_details": None,
        "customer_email": params.get("customer_email"),
        "discounts": [],
        "expires_at": int(params.get("expires_at") or store.now + 86_400),
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": params.get("locale"),
        "managed_payments": {"enabled": False},
        "metadata": params.get("metadata") or {},
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        # Dynamic payment methods, as a newsroom in the euro area would have them: bank debit too.
        "payment_method_types": ["card", "sepa_debit"]
        if mode == "payment" and currency == "eur"
        else ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": params.get("submit_type"),
        "subscription": None,
        "success_url": params.get("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": f"{url}/{cs_id}",
        "wallet_options": None,
    }


def payment_intent(
    store: Store, amount: int, currency: str, customer_id: str | None, **fields: Any
) -> Obj:
    pi_id = store.new_id("pi")
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_Sbx",
        "confirmation_method": "automatic",
        "created": store.now,
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    } | fields


def charge(
    store: Store, intent: Obj, pm: Obj, outcome: Obj, failure: tuple[str, str] | None
) -> Obj:
    ch_id = store.new_id("ch")
    paid = failure is None
    return {
        "id": ch_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"] if paid else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": pm["billing_details"] | {"address": dict(ADDRESS)},
        "calculated_statement_descriptor": "SANDBOX* DONATION",
        "captured": paid,
        "created": store.now,
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure and failure[0],
        "failure_message": failure and failure[1],
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": paid,
        "payment_intent": intent["id"],
        "payment_method": pm["id"],
        "payment_method_details": {"card": card_details(pm["_card"]), "type": "card"},
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/sandbox/{ch_id}",
        "refunded": False,
        "refunds": list_object(f"/v1/charges/{ch_id}/refunds", []),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if paid else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }


def outcome(decline_code: str | None) -> Obj:
    return {
        "advice_code": "try_again_later" if decline_code else None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network" if decline_code else "approved_by_network",
        "reason": decline_code,
        "risk_level": "normal",
        "seller_message": "The bank did not return any further details with this decline."
        if decline_code
        else "Payment complete.",
        "type": "issuer_declined" if decline_code else "authorized",
    }


def refund(store: Store, charge_obj: Obj, amount: int, reason: str | None, metadata: Obj) -> Obj:
    return {
        "id": store.new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": charge_obj["id"],
        "created": store.now,
        "currency": charge_obj["currency"],
        "customer": charge_obj["customer"],
        "customer_account": None,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": metadata,
        "payment_intent": charge_obj["payment_intent"],
        "payment_method": charge_obj["payment_method"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
