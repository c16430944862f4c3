"""The global checkout limit is everyone's: no one address can spend it by being refused."""

from __future__ import annotations

import pytest

from tests.donations.conftest import GOOD

pytestmark = pytest.mark.usefixtures("app_context")


def test_an_address_over_its_own_limit_leaves_the_global_budget_to_everyone_else(make_app):
    """Starts refused by their own address's limit never reached Stripe: one address posting
    twice a second after its limit must not answer every other reader 429."""
    app = make_app(CHECKOUT_RATE_LIMIT="2 per minute", CHECKOUT_GLOBAL_RATE_LIMIT="5 per minute")
    client = app.test_client()
    sent = iter(range(1000))

    def post(address: str) -> int:
        data = GOOD | {"submission": f"{next(sent):032x}"}
        return client.post("/give", data=data, environ_base={"REMOTE_ADDR": address}).status_code

    assert [post("203.0.113.7") for _ in range(20)] == [303, 303] + [429] * 18
    others = [post(f"198.51.100.{n}") for n in range(4)]
    # Its two starts and three others' fill the global five; the sixth start is refused.
    assert others == [303, 303, 303, 429]
