"""The rate limits' storage (Redis) down: giving, donor sign-in and staff sign-in go on, each
process counting in its own memory, and /healthz says so without leaving the load balancer."""

from __future__ import annotations

import logging

import pytest

from membership.config import limiter_storage_options
from membership.extensions import limiter
from tests.dashboard.conftest import PASSWORD, make_account
from tests.donations.conftest import GOOD

# Nothing listens on port 1: every connection is refused at once, as with Redis stopped.
UNREACHABLE = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(make_app):
    """An app whose limiter storage cannot be reached."""
    app = make_app(RATELIMIT_STORAGE_URI=UNREACHABLE, CHECKOUT_RATE_LIMIT="3 per minute")
    with app.app_context():
        yield app


def counting_in_memory() -> bool:
    """Whether the limiter counts in its in-memory fallback instead of its storage."""
    return limiter.limiter.storage is not limiter.storage


def test_giving_and_signing_in_go_on_and_the_outage_is_logged_once(redis_down, caplog):
    client = redis_down.test_client()
    # The limiter is one object for every app this process builds: an outage an earlier test
    # met is already known (and not announced again) until the library sees its storage back.
    known = counting_in_memory()
    staff = make_account()
    with caplog.at_level(logging.WARNING):
        starts = [
            client.post("/give", data=GOOD | {"submission": f"{n:032x}"}).status_code
            for n in range(3)
        ]
        links = [
            client.post("/account/", data={"email": f"reader{n}@example.org"}).status_code
            for n in range(5)
        ]
        wrong = client.post("/staff/login", data={"email": staff.email, "password": "x" * 12})
        signed_in = client.post("/staff/login", data={"email": staff.email, "password": PASSWORD})
    assert starts == [303, 303, 303] and links == [200] * 5
    assert (wrong.status_code, signed_in.status_code) == (200, 302)
    said = [r.getMessage() for r in caplog.records if r.name == "flask-limiter"]
    announced = ["Rate limit storage unreachable - falling back to in-memory storage"]
    assert said == ([] if known else announced) and counting_in_memory()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_limits_still_hold_in_each_process_meanwhile(redis_down):
    """Fail-over, not fail-open: card testers get no free run while Redis is down."""
    client = redis_down.test_client()
    codes = [
        client.post("/give", data=GOOD | {"submission": f"{n:032x}"}).status_code for n in range(4)
    ]
    assert codes == [303, 303, 303, 429]


def test_healthz_says_degraded_and_stays_ready(redis_down, make_app):
    """Readiness stays 200: a Redis outage must not take every web server out of the load
    balancer, and each one still limits on its own."""
    response = redis_down.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "schema": "current",
        "rate_limits": "per-process",
    }
    # With the storage answering, the body is as it always was.
    healthy = make_app().test_client().get("/healthz").get_json()
    assert healthy == {"status": "ok", "database": "ok", "schema": "current"}


@pytest.mark.parametrize(
    ("uri", "bounded"),
    [("redis://cache:6379/0", True), ("rediss://cache:6380/0", True), ("memory://", False)],
)
def test_a_redis_that_does_not_answer_is_given_up_on_within_a_second(uri, bounded):
    """Not the system's connect timeout (minutes, for a host that drops packets) times
    redis-py's ten retries: the request waiting on it is a reader's."""
    options = limiter_storage_options(uri)
    assert bool(options) is bounded
    if bounded:
        assert options["socket_connect_timeout"] == options["socket_timeout"] == 0.5
        assert options["retry"].get_retries() == 1
