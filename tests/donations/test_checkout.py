"""From the form to Stripe Checkout and back: the requests Stripe gets, and what readers see."""

from __future__ import annotations

import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from membership import stripe_api
from membership.donations import checkout
from membership.extensions import db
from membership.models import CheckoutAttempt, CheckoutState, Donation, Frequency
from membership.money import Money
from tests.donations.conftest import GOOD, attempts, checked, give, sessions
from tests.factories import FIXED_NOW, make_campaign, make_member

pytestmark = pytest.mark.usefixtures("app_context")


def stripe_session(session_id: str):
    return stripe_api.client().v1.checkout.sessions.retrieve(
        session_id, params={"expand": ["line_items"]}
    )


def test_one_off_gift_opens_a_payment_session_for_donations(client, sandbox):
    make_campaign(slug="year-end")
    response = give(
        client,
        amount="other",
        custom_amount="12.50",
        currency="EUR",
        campaign="year-end",
        article_url="https://news.example/2026/story",
        utm_source="newsletter",
        utm_campaign="dec",
        newsletter="y",
    )
    assert response.status_code == 303
    [attempt] = attempts()
    assert response.headers["Location"].endswith(
        f"/sandbox/checkout/{attempt.stripe_checkout_session_id}"
    )
    assert (attempt.amount, attempt.currency, attempt.frequency) == (1250, "EUR", Frequency.ONE_OFF)
    assert attempt.state is CheckoutState.OPEN and attempt.newsletter_consent is True
    assert (attempt.article_url, attempt.utm_source, attempt.utm_campaign) == (
        "https://news.example/2026/story",
        "newsletter",
        "dec",
    )
    assert attempt.campaign_id is not None

    session = stripe_session(attempt.stripe_checkout_session_id)
    assert session.mode == "payment" and session.submit_type == "donate"
    assert (session.amount_total, session.currency) == (1250, "eur")
    assert session.client_reference_id == attempt.reference
    assert session.metadata.to_dict() == {
        "attempt": attempt.reference,
        "campaign": "year-end",
        "frequency": "one_off",
    }
    assert session.customer_creation == "always"
    assert session.success_url == "http://localhost/thanks?session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == f"http://localhost/give/cancelled/{attempt.reference}"
    assert session.line_items.data[0].price.recurring is None
    paid = sandbox.pay(session.id)
    intent = stripe_api.client().v1.payment_intents.retrieve(paid["payment_intent"])
    assert intent.metadata["attempt"] == attempt.reference


@pytest.mark.parametrize(
    ("frequency", "amount", "minor"), [("month", "10", 1000), ("year", "120", 12000)]
)
def test_recurring_gift_opens_a_subscription_session(client, sandbox, frequency, amount, minor):
    assert give(client, frequency=frequency, amount=amount, currency="GBP").status_code == 303
    [attempt] = attempts()
    session = stripe_session(attempt.stripe_checkout_session_id)
    assert session.mode == "subscription" and session.submit_type is None
    price = session.line_items.data[0].price
    assert (price.unit_amount, price.currency, price.recurring.interval) == (
        minor,
        "gbp",
        frequency,
    )
    assert session.metadata["frequency"] == frequency
    paid = sandbox.pay(session.id)
    subscription = stripe_api.client().v1.subscriptions.retrieve(paid["subscription"])
    assert subscription.metadata["attempt"] == attempt.reference, "renewals can be attributed"


def test_zero_decimal_amounts_reach_stripe_unscaled(client, sandbox):
    give(client, amount="3000", currency="JPY")
    [attempt] = attempts()
    session = stripe_session(attempt.stripe_checkout_session_id)
    assert (session.amount_total, session.currency) == (3000, "jpy")


def test_a_double_submit_opens_one_session(client, sandbox):
    first = give(client, submission="b" * 32)
    second = give(client, submission="b" * 32)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(attempts()) == 1 and len(sessions(sandbox)) == 1


def test_the_same_form_resubmitted_with_other_choices_is_a_new_attempt(client, sandbox):
    first = give(client, submission="c" * 32, amount="25")
    second = give(client, submission="c" * 32, amount="50")
    assert first.headers["Location"] != second.headers["Location"]
    assert [a.amount for a in attempts()] == [2500, 5000] and len(sessions(sandbox)) == 2


def test_a_known_donor_reuses_their_stripe_customer(app, sandbox):
    customer = stripe_api.client().v1.customers.create(params={"email": "known@example.org"})
    member = make_member(email="known@example.org", stripe_customer_id=customer.id)
    gift = checkout.Gift(Frequency.MONTH, Money(1000, "USD"), False, "en", "d" * 32)
    checkout.start_checkout(gift, {}, member=member)
    [attempt] = attempts()
    session = stripe_session(attempt.stripe_checkout_session_id)
    assert session.customer == customer.id and attempt.member_id == member.id


def pay(client, location: str, card: str = "4242424242424242"):
    return client.post(location, data={"email": "reader@example.org", "card_number": card})


def test_thank_you_page_reads_the_session_from_stripe_not_the_query(client, sandbox):
    location = give(client, frequency="month", amount="10", currency="EUR").headers["Location"]
    paid = pay(client, location)
    assert paid.status_code == 303
    thanks_url = paid.headers["Location"].replace("http://localhost", "")
    donations_before = db.session.scalar(sa.select(sa.func.count()).select_from(Donation))
    html = client.get(thanks_url + "&amount=999999&currency=USD").get_data(as_text=True)
    [lead] = re.findall(r'<p class="lead">(.*?)</p>', html)
    assert lead == "You give €10.00 a month to The Test Gazette."
    assert "What happens next" in html
    after = db.session.scalar(sa.select(sa.func.count()).select_from(Donation))
    assert after == donations_before, "the thank-you page never writes payment truth"


def test_thank_you_for_an_unpaid_session_says_not_yet(client, sandbox):
    location = give(client).headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    html = client.get(f"/thanks?session_id={session_id}").get_data(as_text=True)
    assert "Almost there" in html and "Thank you!" not in html


@pytest.mark.parametrize(
    "session_id", ["", "cs_test_unknown123", "../../etc", "pi_123", "cs_" + "a" * 300]
)
def test_thank_you_for_unknown_or_malformed_sessions_is_404(client, session_id):
    assert client.get("/thanks", query_string={"session_id": session_id}).status_code == 404


def test_cancelled_checkout_returns_to_the_form_with_choices_kept(client, sandbox):
    give(
        client,
        frequency="year",
        amount="other",
        custom_amount="75",
        currency="GBP",
        utm_source="tw",
    )
    [attempt] = attempts()
    back = client.get(f"/give/cancelled/{attempt.reference}")
    assert back.status_code == 302
    html = client.get(back.headers["Location"]).get_data(as_text=True)
    assert "Your payment was cancelled and nothing was charged" in html
    assert checked(html, "frequency") == ["year"] and checked(html, "currency") == ["GBP"]
    assert 'value="75"' in html and 'value="tw"' in html
    assert attempts()[0].state is CheckoutState.OPEN, "only Stripe's webhook may expire it"


def test_cancel_link_for_an_unknown_attempt_goes_to_a_fresh_form(client):
    response = client.get("/give/cancelled/not-a-reference")
    assert response.status_code == 302 and response.headers["Location"] == "/give"


def test_checkouts_are_rate_limited_per_client_with_a_friendly_429(client, sandbox):
    codes = [give(client, submission=f"{n:032x}").status_code for n in range(6)]
    assert codes == [303] * 5 + [429]
    response = give(client, submission="f" * 32)
    assert "Too many attempts" in response.get_data(as_text=True)
    assert len(sessions(sandbox)) == 5


def test_a_global_limit_holds_across_client_addresses(make_app):
    app = make_app(CHECKOUT_GLOBAL_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [
        client.post(
            "/give",
            data=GOOD | {"submission": f"{n:032x}"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        ).status_code
        for n in range(4)
    ]
    assert codes == [303, 303, 303, 429]


class CaptchaStub(BaseHTTPRequestHandler):
    """Stands in for the CAPTCHA provider's siteverify endpoint: token "pass" passes."""

    seen: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        from urllib.parse import parse_qs

        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        CaptchaStub.seen.append(form)
        body = json.dumps({"success": form.get("response") == ["pass"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def captcha_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), CaptchaStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/siteverify"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("token", "status"), [("pass", 303), ("fail", 400), ("", 400)])
def test_turnstile_is_verified_on_the_server_when_switched_on(
    make_app, captcha_server, token, status
):
    app = make_app(
        CAPTCHA_PROVIDER="turnstile",
        CAPTCHA_SITE_KEY="1x00000000000000000000AA",
        CAPTCHA_SECRET_KEY="1x0000000000000000000000000000000AA",
        CAPTCHA_VERIFY_URL=captcha_server,
    )
    client = app.test_client()
    assert 'class="cf-turnstile" data-sitekey="1x00000000000000000000AA"' in client.get(
        "/give"
    ).get_data(as_text=True)
    response = client.post("/give", data=GOOD | {"cf-turnstile-response": token})
    assert response.status_code == status
    if status == 400:
        assert "Please confirm you are not a robot." in response.get_data(as_text=True)
        with app.app_context():
            assert attempts() == []
    if token:
        assert CaptchaStub.seen[-1]["secret"] == ["1x0000000000000000000000000000000AA"]


def test_captcha_fails_closed_when_the_provider_is_unreachable(make_app):
    app = make_app(
        CAPTCHA_PROVIDER="hcaptcha",
        CAPTCHA_SECRET_KEY="x",
        CAPTCHA_VERIFY_URL="http://127.0.0.1:9/",
    )
    response = app.test_client().post("/give", data=GOOD | {"h-captcha-response": "token"})
    assert response.status_code == 400


def test_stripe_unreachable_shows_a_retry_message_not_a_500(make_app):
    app = make_app(
        STRIPE_SECRET_KEY="sk_test_not_a_real_key_for_tests",
        STRIPE_API_BASE="http://127.0.0.1:9",
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    response = app.test_client().post("/give", data=GOOD)
    html = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "We could not reach our payment provider. Nothing was charged" in html
    with app.app_context():
        [attempt] = db.session.scalars(sa.select(CheckoutAttempt)).all()
        assert attempt.stripe_checkout_session_id is None, "the try is recorded for the funnel"


@pytest.mark.parametrize("path", ["/", "/give", "/give?frequency=one_off", "/does-not-exist"])
def test_every_page_says_test_mode_in_demo_and_not_with_a_real_key(make_app, path):
    demo = make_app().test_client().get(path).get_data(as_text=True)
    assert "no real money moves" in demo
    real = make_app(STRIPE_SECRET_KEY="sk_test_not_a_real_key_for_tests")
    assert "no real money moves" not in real.test_client().get(path).get_data(as_text=True)


def redis_url() -> str:
    """The machine's Redis; tests that need it skip, saying so, where there is none. Each
    pytest-xdist worker (gw0, gw1, ...) has a database of its own, counting down from 15."""
    import redis

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    url = f"redis://127.0.0.1:6379/{15 - int(worker or 0)}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip("Redis at 127.0.0.1:6379 is not running (start redis-server to run this)")
    return url


def test_limits_in_redis_hold_across_workers(make_app):
    """Two app processes (gunicorn workers, or hosts) share one counter through Redis."""
    from membership.extensions import limiter

    shared = {"RATELIMIT_STORAGE_URI": redis_url(), "CHECKOUT_RATE_LIMIT": "3 per minute"}
    app_a, app_b = make_app(**shared), make_app(**shared)
    limiter.reset()  # empties this worker's own Redis database, left over from earlier runs
    # Two workers, one Stripe account: both talk to the first app's sandbox.
    app_b.extensions["stripe_client"] = app_a.extensions["stripe_client"]
    worker_a, worker_b = app_a.test_client(), app_b.test_client()
    codes = [
        (worker_a if n % 2 else worker_b)
        .post("/give", data=GOOD | {"submission": f"{n:032x}"})
        .status_code
        for n in range(4)
    ]
    assert codes == [303, 303, 303, 429]


@pytest.mark.parametrize(
    ("lang", "frequency", "name"),
    [
        ("en", "one_off", "Gift to The Test Gazette"),
        ("ru", "month", "Регулярная поддержка: The Test Gazette"),
    ],
)
def test_stripe_shows_the_gift_in_the_readers_language(client, sandbox, lang, frequency, name):
    client.post(f"/give?lang={lang}", data=GOOD | {"frequency": frequency})
    [attempt] = attempts()
    session = stripe_session(attempt.stripe_checkout_session_id)
    product = stripe_api.client().v1.products.retrieve(session.line_items.data[0].price.product)
    assert product.name == name and attempt.locale == lang and session.locale == lang


def test_a_typed_amount_wins_over_a_ticked_suggestion_without_javascript(client, sandbox):
    """Without the script nothing unticks the preselected suggestion; the typed amount is meant."""
    assert give(client, amount="25", custom_amount="75").status_code == 303
    assert [a.amount for a in attempts()] == [7500]


def test_gifts_are_credited_only_to_the_campaign_the_link_named(client, sandbox):
    running = make_campaign(slug="spring")
    make_campaign(slug="ended", ends_at=FIXED_NOW)
    give(client, campaign="ended", submission="1" * 32)
    give(client, campaign="unknown", submission="2" * 32)
    give(client, campaign="spring", submission="3" * 32)
    assert [a.campaign_id for a in attempts()] == [None, None, running.id]


def test_thank_you_for_a_bank_debit_still_processing_says_not_yet_then_thanks(client, sandbox):
    """A SEPA Direct Debit completes Checkout unpaid: no thanks for money that may not come."""
    location = give(client, frequency="one_off", amount="25", currency="EUR").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    sandbox.pay(session_id, iban="DE89370400440532013000", email="reader@example.org")
    html = client.get(f"/thanks?session_id={session_id}").get_data(as_text=True)
    assert "Almost there" in html and "Thank you!" not in html
    sandbox.advance(days=1)  # the bank answers
    html = client.get(f"/thanks?session_id={session_id}").get_data(as_text=True)
    assert "Thank you!" in html and "€25.00" in html
