"""The stand-in's rate limiter: Stripe's per-second limits, reads and writes apart, its 429."""

from __future__ import annotations

import pytest
import stripe

from membership.sandbox.ratelimit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_past_the_limit_stripe_answers_429_rate_limit_and_says_to_retry(sandbox, stripe_client):
    clock = Clock()
    sandbox.rate_limit = RateLimit(2, clock=clock)
    customer = stripe_client.v1.customers.create(params={"email": "a@example.com"})  # a write
    stripe_client.v1.customers.retrieve(customer.id)
    stripe_client.v1.customers.retrieve(customer.id)
    with pytest.raises(stripe.RateLimitError) as caught:
        stripe_client.v1.customers.retrieve(customer.id)  # the third read within a second
    error = caught.value
    assert (error.http_status, error.error.code) == (429, "rate_limit")
    assert error.headers["Stripe-Should-Retry"] == "true"
    assert "rate limit" in error.user_message.lower()
    # Writes have their own allowance; a second later reads are admitted again.
    stripe_client.v1.customers.update(customer.id, params={"name": "B"})
    clock.now += 1
    assert stripe_client.v1.customers.retrieve(customer.id).name == "B"
    assert sandbox.rate_limit.refused == 1


@pytest.mark.parametrize(
    ("setting", "per_second"), [("test", 25), ("live", 100), ("7", 7), (" Live ", 100)]
)
def test_the_setting_names_stripes_figures_or_a_number(setting, per_second):
    assert RateLimit.parse(setting).per_second == per_second


@pytest.mark.parametrize("setting", [None, "", "0", "off"])
def test_no_setting_means_no_limit(setting):
    assert RateLimit.parse(setting) is None


def test_a_bad_setting_is_refused_with_its_value():
    with pytest.raises(ValueError, match="'fast'"):
        RateLimit.parse("fast")
