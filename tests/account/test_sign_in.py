"""Magic-link sign-in: no enumeration, expiry, single use, rate limits and the donor session."""

from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from membership.account import tokens
from membership.extensions import db
from membership.models import OutboxEmail
from tests.account.conftest import latest_link, sign_in
from tests.factories import make_member

pytestmark = pytest.mark.usefixtures("app_context")


def outbox() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))


def test_known_and_unknown_addresses_get_the_same_answer_and_only_one_gets_mail(client):
    member = make_member(email="known@example.org", locale="ru")
    known = client.post("/account/", data={"email": " Known@Example.org "})
    unknown = client.post("/account/", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.data == unknown.data
    [email] = outbox()
    assert (email.member_id, email.to_address, email.template) == (
        member.id,
        "known@example.org",
        "magic_link",
    )
    assert email.locale == "ru"
    assert email.context["minutes"] == 30
    assert email.context["link"].startswith("http://localhost/account/sign-in/")


def test_the_answer_goes_out_before_any_work_on_the_address(app, client):
    """No timing oracle: until the page has been sent, a member's address and an unknown one
    cost the same statements (none that looks the address up); the link is made after."""
    make_member(email="known@example.org")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        seen = {}
        for address in ("known@example.org", "nobody@example.org"):
            statements.clear()
            response = client.post("/account/", data={"email": address}, buffered=False)
            before = list(statements)  # all that ran until the page was there to send
            page = response.get_data()  # reading on, as a server does once it has sent it
            response.close()
            seen[address] = (response.status_code, page, before)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert seen["known@example.org"] == seen["nobody@example.org"]
    assert not any("member" in statement for statement in seen["known@example.org"][2])
    [email] = outbox()  # made once the answer had gone
    assert email.to_address == "known@example.org"


def test_erased_members_get_no_link(client):
    from datetime import UTC, datetime

    make_member(email="gone@example.org", erased_at=datetime.now(UTC))
    assert client.post("/account/", data={"email": "gone@example.org"}).status_code == 200
    assert outbox() == []


def test_a_malformed_address_is_refused_before_any_lookup(client):
    response = client.post("/account/", data={"email": "not an email"})
    assert response.status_code == 400
    assert outbox() == []


def test_the_link_page_does_not_use_the_link_and_the_button_uses_it_once(client):
    member = make_member()
    client.post("/account/", data={"email": member.email})
    path = latest_link(member)
    for _ in range(2):  # a mail scanner's prefetch, then the donor
        page = client.get(path)
        assert page.status_code == 200 and b"Sign in" in page.data
        assert page.headers["Referrer-Policy"] == "same-origin"  # the token stays on our site
        assert page.headers["X-Frame-Options"] == "DENY"
    assert client.post(path).status_code == 303
    assert client.get("/account/home").status_code == 200
    again = client.post(path)
    assert again.status_code == 400 and b"no longer works" in again.data


def test_using_one_link_burns_every_other_outstanding_link(client):
    member = make_member()
    client.post("/account/", data={"email": member.email})
    first = latest_link(member)
    client.post("/account/", data={"email": member.email})
    second = latest_link(member)
    assert client.post(second).status_code == 303
    assert client.post(first).status_code == 400


@pytest.mark.parametrize(("minutes_ago", "works"), [(29, True), (31, False)])
def test_links_expire_after_thirty_minutes(app, client, monkeypatch, minutes_ago, works):
    member = make_member()
    signed_at = int(time.time()) - minutes_ago * 60
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda _self: signed_at)
        token = tokens.make_token(member)
    db.session.commit()
    assert client.post(f"/account/sign-in/{token}").status_code == (303 if works else 400)


def test_a_tampered_or_foreign_token_is_refused(app, client):
    member = make_member()
    token = tokens.make_token(member)
    db.session.commit()
    assert client.get(f"/account/sign-in/{token[:-2]}xx").status_code == 400
    other = tokens.URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="another-purpose")
    forged = other.dumps({"m": member.public_id, "n": member.login_nonce})
    assert client.post(f"/account/sign-in/{forged}").status_code == 400


def test_link_requests_are_limited_per_address_alike_for_known_and_unknown(client):
    make_member(email="known@example.org")
    for address in ("known@example.org", "nobody@example.org"):
        statuses = [client.post("/account/", data={"email": address}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
    limited = client.post("/account/", data={"email": "KNOWN@example.org"})
    assert limited.status_code == 429
    assert b"Please wait a few minutes" in limited.data
    assert len(outbox()) == 3


def test_link_requests_are_limited_per_client_address(make_app):
    app = make_app(ACCOUNT_LINK_RATE_LIMIT="2 per minute")
    client = app.test_client()
    statuses = [
        client.post("/account/", data={"email": f"reader{n}@example.org"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_every_post_needs_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        member = make_member()
        token = tokens.make_token(member)
        db.session.commit()
        assert client.post("/account/", data={"email": member.email}).status_code == 400
        assert client.post(f"/account/sign-in/{token}").status_code == 400
        assert outbox() == []


def test_sign_out_ends_the_session_and_a_new_sign_in_elsewhere_ends_the_old_one(app, client):
    member = make_member()
    sign_in(client, member)
    other_browser = app.test_client()
    sign_in(other_browser, member)
    assert client.get("/account/home").status_code == 302  # one donor session at a time
    assert other_browser.post("/account/sign-out").status_code == 303
    assert other_browser.get("/account/home").status_code == 302


@pytest.mark.parametrize(
    ("key", "age_seconds"),
    [("at", 4 * 3600 + 1), ("seen", 30 * 60 + 1)],  # absolute, then idle limit
)
def test_sessions_end_after_their_idle_and_absolute_limits(client, key, age_seconds):
    member = make_member()
    sign_in(client, member)
    with client.session_transaction() as session:
        if key == "at":
            session["donor"] = session["donor"] | {"at": session["donor"]["at"] - age_seconds}
        else:
            session["donor_seen"] -= age_seconds
    response = client.get("/account/home")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/")


def test_a_staff_session_is_not_a_donor_session(client):
    with client.session_transaction() as session:
        session["_user_id"] = "1:whatever"
    assert client.get("/account/home").status_code == 302


def test_tokens_never_reach_the_logs(client, caplog):
    member = make_member()
    caplog.set_level(logging.DEBUG)
    client.post("/account/", data={"email": member.email})
    path = latest_link(member)
    token = path.rsplit("/", 1)[1]
    client.get(path)
    client.post(path)
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert token not in logged
    assert member.email not in logged
