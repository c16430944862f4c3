"""When Stripe answers 429 (its rate limit), the service backs off and retries with the stripe
library's own retries; a limit that lasts gives the reader a retry message, never a 500, and
a webhook is refused with 500 so that Stripe delivers it again: no event is lost."""

from __future__ import annotations

import pytest

from membership.models import Donation, Member, StripeEvent
from membership.sandbox.ratelimit import RateLimit
from tests.donations.conftest import attempts, give
from tests.webhooks.conftest import one, rows

pytestmark = pytest.mark.usefixtures("app_context")


class SteppingClock:
    """Half a second passes each time the limiter looks; `frozen` stops time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.frozen = False

    def __call__(self) -> float:
        if not self.frozen:
            self.now += 0.5
        return self.now


def test_a_429_is_retried_after_a_backoff_and_the_reader_goes_to_checkout(client, sandbox):
    """One write a second: the checkout's second write within the second is refused, the
    library waits (its backoff, with jitter) and sends it again, and it goes through."""
    sandbox.rate_limit = RateLimit(1, clock=SteppingClock())
    sandbox.rate_limit.admit("POST")  # another write of this second
    response = give(client)
    assert response.status_code == 303, response.text
    assert sandbox.rate_limit.refused == 1
    assert attempts()[0].stripe_checkout_session_id


def test_a_lasting_limit_tells_the_reader_to_try_again(make_app, sandbox):
    app = make_app(STRIPE_MAX_NETWORK_RETRIES=0)
    clock = SteppingClock()
    clock.frozen = True
    app.extensions["stripe_sandbox"].rate_limit = RateLimit(1, clock=clock)
    client = app.test_client()
    give(client)  # takes the second's only write
    with app.app_context():
        response = give(client, submission="b" * 32)
    assert response.status_code == 502
    assert "please try again" in response.text


def test_webhooks_refused_by_the_limit_answer_500_and_apply_when_delivered_again(make_app):
    app = make_app(STRIPE_MAX_NETWORK_RETRIES=0)
    sandbox = app.extensions["stripe_sandbox"]
    clock = SteppingClock()
    with app.app_context():
        give(app.test_client())
        [attempt] = attempts()
        clock.frozen = True
        sandbox.rate_limit = RateLimit(1, clock=clock)
        sandbox.rate_limit.admit("GET")  # this second's only read is gone
        sandbox.pay(attempt.stripe_checkout_session_id, email="limited@example.org")
        refused = {d.type for d in sandbox.webhooks.deliveries if d.status == 500}
        assert refused == {"checkout.session.completed"}
        [event] = [e for e in rows(StripeEvent) if e.processed_at is None]
        assert event.last_error.startswith("RateLimitError") and not event.missing_at_stripe
        sandbox.rate_limit = None  # Stripe's retry comes later, when the limit has room
        assert sandbox.webhooks.redeliver(event.id).status == 200
        assert one(Member).email == "limited@example.org" and one(Donation).amount == 2500
