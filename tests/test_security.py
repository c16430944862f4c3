"""Security headers: a strict Content-Security-Policy and no framing on our pages; the banner
and the demo article keep policies of their own."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("app_context")


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.mark.parametrize(
    "path", ["/", "/give", "/thanks?session_id=cs_unknown", "/account/", "/no-such-page"]
)
def test_reader_and_donor_pages_load_only_our_own_files_and_are_never_framed(client, path):
    response = client.get(path)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    for kind in ("script-src", "style-src"):
        assert policy[kind] == ["'self'"]  # no inline script or style, nothing from elsewhere
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    # The give form and the donor's card update redirect to Stripe's hosted pages.
    stripe_pages = ["https://checkout.stripe.com", "https://billing.stripe.com"]
    assert policy["form-action"] == ["'self'", *stripe_pages]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("provider", "script", "connect"),
    [
        ("turnstile", ["https://challenges.cloudflare.com"], []),
        (
            "hcaptcha",
            ["https://hcaptcha.com", "https://*.hcaptcha.com"],
            ["https://*.hcaptcha.com"],
        ),
    ],
)
def test_a_captcha_widget_may_load_from_its_provider_only(make_app, provider, script, connect):
    client = make_app(CAPTCHA_PROVIDER=provider, CAPTCHA_SITE_KEY="test-site-key").test_client()
    policy = directives(client.get("/give").headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", *script]
    assert all(origin in policy["frame-src"] for origin in script)
    assert all(origin in policy["connect-src"] for origin in connect)
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]


def test_the_banner_may_be_framed_by_any_article_and_loads_nothing(client):
    response = client.get("/embed/banner")
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["*"] and policy["default-src"] == ["'none'"]
    assert "X-Frame-Options" not in response.headers


def test_the_demo_article_has_a_strict_newsrooms_policy_which_the_banner_works_under(client):
    """The banner's browser tests run on this page and fail on any violation."""
    response = client.get("/demo/article")
    policy = directives(response.headers["Content-Security-Policy"])
    [nonce] = [s for s in policy["style-src"] if s.startswith("'nonce-")]
    assert policy["style-src"] == ["'self'", nonce]  # no 'unsafe-inline'
    assert f'<style nonce="{nonce[7:-1]}">' in response.get_data(as_text=True)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'", "http://localhost"]  # BASE_URL, whence embed.js
    again = client.get("/demo/article").headers["Content-Security-Policy"]
    assert nonce not in again  # a fresh nonce for every page


@pytest.mark.parametrize("path", ["/embed.js", "/healthz", "/static/css/site.css"])
def test_files_and_json_are_never_sniffed_and_carry_no_page_policy(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


def test_over_https_browsers_are_told_to_stay_on_https(client):
    secure = client.get("/", base_url="https://give.example.org")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/").headers  # plain-HTTP development


def test_behind_a_proxy_the_forwarded_scheme_counts(make_app):
    client = make_app(PROXY_COUNT=1).test_client()
    response = client.get("/give", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_checkout_on_a_custom_domain_is_named_in_the_policy(make_app):
    client = make_app(STRIPE_HOSTED_ORIGINS=["https://pay.newsroom.example"]).test_client()
    policy = directives(client.get("/give").headers["Content-Security-Policy"])
    assert policy["form-action"] == ["'self'", "https://pay.newsroom.example"]
