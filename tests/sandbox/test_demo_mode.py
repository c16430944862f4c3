"""Demo mode: the in-process sandbox without a Stripe key; never with real keys or in production."""

from __future__ import annotations

import pytest
from flask import Flask

from membership import create_app, stripe_api
from membership import sandbox as sandbox_pkg
from membership.config import TestConfig
from membership.sandbox import SANDBOX_WEBHOOK_SECRET, Sandbox


def bare_app(**config: object) -> Flask:
    app = Flask(__name__)
    app.config.update({"SANDBOX_STATE": "memory", **config})
    stripe_api.init_app(app)
    return app


def sandbox_rules(app: Flask) -> list[str]:
    return [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/sandbox")]


def test_no_key_outside_production_runs_the_sandbox_in_process():
    app = create_app(TestConfig)
    assert app.config["DEMO_MODE"] is True
    assert app.config["STRIPE_WEBHOOK_SECRET"] == SANDBOX_WEBHOOK_SECRET
    assert "/sandbox/checkout/<session_id>" in sandbox_rules(app)
    with app.app_context():
        session = stripe_api.client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "success_url": "http://localhost/thanks/{CHECKOUT_SESSION_ID}",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "eur",
                            "unit_amount": 700,
                            "product_data": {"name": "Gift"},
                        },
                    }
                ],
            }
        )
    browser = app.test_client()
    assert "TEST MODE" in browser.get(session.url).get_data(as_text=True)
    paid = browser.post(
        session.url, data={"email": "r@example.com", "card_number": "4242424242424242"}
    )
    assert paid.headers["Location"] == f"http://localhost/thanks/{session.id}"
    sandbox = sandbox_pkg.of(app)
    assert sandbox is not None and sandbox.webhooks.deliveries  # delivered to /stripe/webhook
    assert all(d.status for d in sandbox.webhooks.deliveries)


def test_an_existing_webhook_secret_is_kept():
    app = bare_app(ENV_NAME="development", STRIPE_WEBHOOK_SECRET="whsec_mine")
    assert app.config["STRIPE_WEBHOOK_SECRET"] == "whsec_mine"


@pytest.mark.parametrize(
    "config",
    [
        {"ENV_NAME": "development", "STRIPE_SECRET_KEY": "sk_test_real_account_key"},
        {"ENV_NAME": "production", "STRIPE_SECRET_KEY": "sk_live_real"},
        {"ENV_NAME": "production"},
    ],
)
def test_real_keys_or_production_never_get_the_sandbox(config):
    app = bare_app(**config)
    assert app.config["DEMO_MODE"] is False
    assert sandbox_rules(app) == []
    assert sandbox_pkg.of(app) is None
    assert app.test_client().get("/sandbox/checkout/cs_test_x").status_code == 404


def test_the_sandbox_refuses_to_attach_to_a_production_app():
    app = Flask(__name__)
    app.config.update(ENV_NAME="production")
    with pytest.raises(RuntimeError):
        Sandbox().init_app(app)
