"""Builders for Stripe-shaped objects (field sets of API version 2026-10-28.endive)."""

from __future__ import annotations

from typing import Any

from membership.sandbox.store import Obj, Store, list_object

ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)
ADDRESS = dict.fromkeys(["city", "country", "line1", "line2", "postal_code", "state"])


def fee_for(amount: int, currency: str) -> int:
    """Stripe's standard card pricing, 2.9% + 30 (no fixed part in zero-decimal currencies)."""
    fixed = 0 if currency in ZERO_DECIMAL else 30
    return (amount * 29 + 500) // 1000 + fixed


def customer(store: Store, email: str | None, name: str | None = None, **fields: Any) -> Obj:
    cus_id = store.new_id("cus")
    return {
        "id": cus_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": store.now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": cus_id[-8:].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    } | fields


def product(store: Store, name: str, description: str | None = None) -> Obj:
    return {
        "id": store.new_id("prod"),
        "object": "product",
        "active": True,
        "created": store.now,
        "default_price": None,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": store.now,
        "url": None,
    }


def price(store: Store, data: Obj, product_id: str) -> Obj:
    recurring = data.get("recurring")
    amount = int(data["unit_amount"])
    return {
        "id": store.new_id("price"),
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": store.now,
        "currency": data["currency"].lower(),
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product_id,
        "recurring": recurring
        and {
            "interval": recurring["interval"],
            "interval_count": int(recurring.get("interval_count", 1)),
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": None,
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }


def payment_method(store: Store, card_number: str, email: str | None, name: str | None) -> Obj:
    pm_id = store.new_id("pm")
    return {
        "id": pm_id,
        "object": "payment_method",
        # The test card (or IBAN) behind it: it decides later charges, such as renewals.
        "_card": card_number,
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": dict(ADDRESS),
            "email": email,
            "name": name,
            "phone": None,
            "tax_id": None,
        },
        "card": card_details(card_number),
        "created": store.now,
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def bank_debit_method(store: Store, iban: str, email: str | None, name: str | None) -> Obj:
    """A SEPA Direct Debit payment method for a test IBAN (the sandbox's only bank debit)."""
    pm = payment_method(store, iban, email, name)
    del pm["card"]
    pm.update(type="sepa_debit", sepa_debit=sepa_details(iban))
    return pm


def sepa_details(iban: str) -> Obj:
    return {
        "bank_code": iban[4:12],
        "branch_code": "",
        "country": iban[:2],
        "fingerprint": f"Sbx{iban[-8:]}",
        "generated_from": {"charge": None, "setup_attempt": None},
        "last4": iban[-4:],
    }


def card_details(card_number: str) -> Obj:
    return {
        "brand": "visa",
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": "US",
        "display_brand": "visa",
        "exp_month": 12,
        "exp_year": 2034,
        "fingerprint": f"Sbx{card_number[-8:]}",
        "funding": "credit",
        "generated_from": None,
        "last4": card_number[-4:],
        "networks": {"available": ["visa"], "preferred": None},
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
        "regulated_status": "unregulated",
    }


def balance_transaction(store: Store, source: str, amount: int, currency: str, kind: str) -> Obj:
    fee = fee_for(amount, currency) if kind == "charge" else 0
    return {
        "id": store.new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": store.now + 2 * 86_400,
        "balance_type": "payments",
        "created": store.now,
        "currency": currency,
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ]
        if fee
        else [],
        "net": amount - fee,
        "reporting_category": kind,
        "source": source,
        "status": "pending",
        "type": kind,
    }


def billing_portal_session(store: Store, customer_id: str, return_url: str | None, url: str) -> Obj:
    bps_id = store.new_id("bps")
    return {
        "id": bps_id,
        "object": "billing_portal.session",
        "configuration": "bpc_Sbx00000000001",
        "created": store.now,
        "customer": customer_id,
        "customer_account": None,
        "flow": None,
        "livemode": False,
        "locale": None,
        "on_behalf_of": None,
        "return_url": return_url,
        "url": f"{url}/{bps_id}",
    }


def dispute(store: Store, charge: Obj, reason: str) -> Obj:
    return {
        "id": store.new_id("dp"),
        "object": "dispute",
        "amount": charge["amount"],
        "balance_transactions": [],
        "charge": charge["id"],
        "created": store.now,
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {},
        "evidence_details": {
            "due_by": store.now + 7 * 86_400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "case_type": "chargeback",
                "network_reason_code": "10.4",
                "network": "visa",
            },
            "type": "card",
        },
        "reason": reason,
        "status": "needs_response",
    }


def empty_list(url: str) -> Obj:
    return list_object(url, [])
