"""The thanks page: what was given, in words; the way on to managing it; the way back."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from membership import sandbox as sandbox_module
from membership.donations import after_checkout
from membership.extensions import db
from membership.models import OutboxEmail
from membership.money import Money
from tests.donations.conftest import give
from tests.factories import make_checkout_attempt
from tests.log_leaks import hand_out

READER = "wren.thistle@example.org"
URL_ATTRIBUTES = re.compile(r'(?:href|action|src)="([^"]*)"')


def pay(client, location: str, email: str = READER):
    """Pay on the sandbox's hosted page, as a reader would: back comes the thanks URL's path."""
    hand_out(email)
    paid = client.post(location, data={"email": email, "card_number": "4242424242424242"})
    assert paid.status_code == 303
    return paid.headers["Location"].replace("http://localhost", "")


def lead(html: str) -> str:
    [found] = re.findall(r'<p class="lead">(.*?)</p>', html)
    return found


@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize(
    ("frequency", "locale", "words"),
    [
        ("month", "en", "You give {amount} a month to The Test Gazette."),
        ("year", "en", "You give {amount} a year to The Test Gazette."),
        ("one_off", "en", "You gave {amount} to The Test Gazette."),
        ("month", "ru", "Вы поддерживаете издание The Test Gazette: {amount} в месяц."),
        ("year", "ru", "Вы поддерживаете издание The Test Gazette: {amount} в год."),
        ("one_off", "ru", "Вы пожертвовали изданию The Test Gazette {amount}."),
    ],
)
def test_the_thanks_page_says_what_was_given_in_words(client, frequency, locale, words):
    client.set_cookie("lang", locale)
    thanks = pay(client, give(client, frequency=frequency, amount="10").headers["Location"])
    amount = Money(1000, "USD").format(locale)
    assert lead(client.get(thanks).text) == words.format(amount=amount)


def urls_in(html: str) -> list[str]:
    return URL_ATTRIBUTES.findall(html)


@pytest.mark.usefixtures("app_context")
def test_the_manage_link_ends_in_a_sign_in_email_and_the_address_is_in_no_url(client):
    started = give(client, frequency="month", amount="10")
    thanks = pay(client, started.headers["Location"])
    page = client.get(thanks).text
    assert READER not in page, "the address is not on the thanks page either"
    [manage] = re.findall(r'<a class="button" href="([^"]*)">Manage your gift</a>', page)

    sign_in_page = client.get(manage)
    assert sign_in_page.status_code == 200
    assert sign_in_page.headers["Cache-Control"] == "no-store"
    html = sign_in_page.text
    assert f'value="{READER}"' in html, "the address Stripe has is filled in"
    [action] = re.findall(r'<form method="post" action="([^"]*)"', html)
    form = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    sent = client.post(action, data=form)
    assert sent.status_code == 200 and "Check your email" in sent.text

    db.session.expire_all()
    [email] = db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.template == "magic_link"))
    assert email.to_address == READER
    visited = [started.headers["Location"], thanks, manage, action, *urls_in(page), *urls_in(html)]
    assert not [url for url in visited if READER in url or "wren" in url.lower()]
    assert READER not in client.get(manage).text, "filled in once, for the link asked for"


@pytest.mark.usefixtures("app_context")
def test_another_browser_with_the_thanks_url_is_not_given_the_address(app, client):
    thanks = pay(client, give(client, frequency="one_off").headers["Location"])
    stranger = app.test_client()  # say, someone reading the URL from a log or the history
    page = stranger.get(thanks)
    assert page.status_code == 200 and "Manage your gift" in page.text
    assert READER not in stranger.get("/account/").text


@pytest.mark.usefixtures("app_context")
def test_the_address_is_filled_in_only_shortly_after_paying(client):
    client.get(pay(client, give(client).headers["Location"]))
    assert READER in client.get("/account/").text
    with client.session_transaction() as session:
        claim = session[after_checkout.PAID]
        too_long_ago = claim["at"] - after_checkout.CLAIM_SECONDS - 1
        session[after_checkout.PAID] = claim | {"at": too_long_ago}
    assert READER not in client.get("/account/").text


def test_the_way_back_is_the_article_when_it_is_on_the_newsroom_site(make_app):
    app = make_app(ARTICLE_HOSTS=["news.example"])
    client = app.test_client()
    story = "https://news.example/2026/12/the-story?ref=banner"
    with app.app_context():
        assert sandbox_module.of(app) is not None
        location = give(client, article_url=story).headers["Location"]
        page = client.get(pay(client, location))
    assert f'<a href="{story.replace("&", "&amp;")}">Back to the article</a>' in page.text
    assert page.headers["Referrer-Policy"] == "same-origin", "the article never sees the URL"


@pytest.mark.usefixtures("app_context")
def test_with_no_newsroom_site_configured_the_way_back_is_the_prompt(client):
    """ARTICLE_HOSTS unset records any article URL for attribution: none becomes a link."""
    location = give(client, article_url="https://elsewhere.example/story").headers["Location"]
    html = client.get(pay(client, location)).text
    assert "elsewhere.example" not in html
    assert '<a href="/">Back to The Test Gazette</a>' in html


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/news.example",
        "https://news.example.evil.example/story",
        "https://evilnews.example/story",
        "https://news.example@evil.example/story",
        "javascript://news.example/%0Aalert(1)",
        "ftp://news.example/story",
        "//news.example/story",
        "https://[news.example/story",
    ],
)
def test_the_way_back_never_leads_to_a_foreign_origin(make_app, url):
    """Attribution recorded before ARTICLE_HOSTS was set is checked again before it is a link."""
    app = make_app(ARTICLE_HOSTS=["news.example"])
    with app.app_context():
        attempt = make_checkout_attempt(article_url=url, referrer=url)
        assert after_checkout.way_back(attempt) is None
        on_site = make_checkout_attempt(article_url=url, referrer="https://www.news.example/a")
        assert after_checkout.way_back(on_site) == "https://www.news.example/a"
