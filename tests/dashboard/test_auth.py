"""Staff sign-in: one answer for every failure, throttling, session rotation, timeouts, `next`."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from membership.dashboard import auth
from membership.dashboard.staff import passwords
from membership.extensions import db
from membership.models import AuditEntry
from tests.dashboard.conftest import PASSWORD, login, make_account

pytestmark = pytest.mark.usefixtures("app_context")


def next_of(location: str) -> str:
    """The `next` a redirect to the login page carries, decoded."""
    parts = urlsplit(location)
    assert parts.path == "/staff/login"
    return parse_qs(parts.query)["next"][0]


def audit_rows(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_login_page_renders(client):
    response = client.get("/staff/login")
    assert response.status_code == 200
    assert b'name="password"' in response.data


def test_successful_login_lands_on_overview_and_is_audited(client, admin):
    response = login(client, admin.email)
    assert response.status_code == 302
    assert response.location == "/staff/"
    assert client.get("/staff/").status_code == 200
    [entry] = audit_rows("staff.login")
    assert entry.staff_user_id == admin.id
    db.session.refresh(admin)
    assert admin.last_login_at is not None


def test_email_is_matched_case_and_space_insensitively(client, admin):
    assert login(client, "  ADMIN@Newsroom.Example ").status_code == 302


def test_unknown_email_wrong_password_and_disabled_get_the_same_answer(client, admin):
    disabled = make_account(active=False)
    tries = [
        ("nobody@newsroom.example", PASSWORD),
        (admin.email, "the wrong password entirely"),
        (disabled.email, PASSWORD),
    ]
    answers = [login(client, email, password) for email, password in tries]
    assert {r.status_code for r in answers} == {200}
    # The page echoes the typed email back into the form; apart from that, byte for byte equal.
    pages = {
        r.data.replace(email.encode(), b"EMAIL")
        for r, (email, _) in zip(answers, tries, strict=True)
    }
    assert len(pages) == 1
    assert b"do not match an active staff account" in answers[0].data


def test_failed_logins_are_audited_without_secrets(client, admin):
    login(client, "nobody@newsroom.example", "guess-one-two-three")
    login(client, admin.email, "guess-four-five-six")
    unknown, known = sorted(audit_rows("staff.login_failed"), key=lambda e: e.id)
    assert unknown.staff_user_id is None and unknown.target_id is None
    assert unknown.detail == {"reason": "unknown_account"}
    assert known.staff_user_id == admin.id
    assert known.detail == {"reason": "wrong_password"}
    stored = repr([(e.actor, e.target_id, e.detail) for e in (unknown, known)])
    for secret in ("nobody", "guess-one", "guess-four", "$argon2"):
        assert secret not in stored


def test_unknown_email_still_spends_a_verification(client, monkeypatch):
    calls = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(1)
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "hasher", CountingHasher())
    login(client, "nobody@newsroom.example")
    assert calls == [1]


def test_throttled_per_account_across_addresses(client, admin):
    for attempt in range(5):
        response = client.post(
            "/staff/login",
            data={"email": "Admin@newsroom.example ", "password": "wrong password here"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{attempt}"},
        )
        assert response.status_code == 200
    blocked = client.post(
        "/staff/login",
        data={"email": admin.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert blocked.status_code == 429
    assert b"Too many attempts" in blocked.data
    # Another account from those addresses is not affected.
    other = make_account()
    assert login(client, other.email).status_code == 302


def test_throttled_per_address_across_accounts(make_app):
    app = make_app(LOGIN_RATE_LIMIT_IP="3 per 15 minutes")
    client = app.test_client()
    with app.app_context():
        for n in range(3):
            assert login(client, f"person{n}@newsroom.example").status_code == 200
        assert login(client, "person9@newsroom.example").status_code == 429
        other_address = client.post(
            "/staff/login",
            data={"email": "person9@newsroom.example", "password": "x" * 12},
            environ_base={"REMOTE_ADDR": "192.0.2.9"},
        )
        assert other_address.status_code == 200


def test_successful_sign_ins_do_not_count_toward_the_account_throttle(client, admin):
    """Only failures are guesses: a colleague signing in six times is not locked out."""
    for _ in range(6):
        assert login(client, admin.email).status_code == 302
    assert login(client, admin.email, "wrong password here").status_code == 200


def test_successful_sign_ins_do_not_count_toward_the_address_throttle(make_app):
    app = make_app(LOGIN_RATE_LIMIT_IP="3 per 15 minutes")
    client = app.test_client()
    with app.app_context():
        staff = [make_account(email=f"desk{n}@newsroom.example") for n in range(4)]
        for account in staff:  # four colleagues behind the newsroom's one address
            assert login(client, account.email).status_code == 302
        # Failures still count: the fourth in the window is refused.
        codes = [login(client, staff[0].email, "wrong password here").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]


def sign_in_from(client, address: str, email: str, password: str = PASSWORD) -> int:
    data = {"email": email, "password": password}
    return client.post("/staff/login", data=data, environ_base={"REMOTE_ADDR": address}).status_code


def browser_signed_in_before(app, email: str):
    """A browser this account has signed in on (and out of) before: it keeps a device cookie."""
    browser = app.test_client()
    assert sign_in_from(browser, "198.51.100.1", email) == 302
    assert browser.post("/staff/logout").status_code == 302
    return browser


def guess_from_five_addresses(app, email: str):
    attacker = app.test_client()
    for n in range(5):
        assert sign_in_from(attacker, f"203.0.113.{n}", email, "wrong password here") == 200
    return attacker


def test_others_failing_at_an_admins_account_cannot_keep_the_admin_out(app, admin):
    admins_browser = browser_signed_in_before(app, admin.email)
    attacker = guess_from_five_addresses(app, admin.email)
    # Guessing stays throttled: the attacker's addresses, and any address and browser never
    # seen (slowed even with the right password: a new browser waits out the window).
    assert sign_in_from(attacker, "203.0.113.0", admin.email, "another wrong one") == 429
    assert sign_in_from(app.test_client(), "192.0.2.77", admin.email, "a third guess") == 429
    assert sign_in_from(app.test_client(), "192.0.2.78", admin.email) == 429
    # The admin, from a sixth address (a train's wifi), on the browser they used before: in.
    assert sign_in_from(admins_browser, "192.0.2.6", admin.email) == 302
    assert admins_browser.get("/staff/").status_code == 200


def test_a_known_browser_is_throttled_by_its_own_failures(app, admin):
    """A stolen device cookie buys guesses at the same rate as the account's limit, no more;
    and the browser's failures do not lock the account for the others."""
    browser = browser_signed_in_before(app, admin.email)
    codes = [sign_in_from(browser, "192.0.2.6", admin.email, "mistyped it") for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert sign_in_from(app.test_client(), "192.0.2.7", admin.email) == 302


def test_the_device_cookie_counts_only_for_its_own_account_and_only_signed(app, admin, viewer):
    admins_browser = browser_signed_in_before(app, admin.email)
    viewers_browser = browser_signed_in_before(app, viewer.email)
    guess_from_five_addresses(app, admin.email)
    assert sign_in_from(viewers_browser, "192.0.2.8", admin.email) == 429
    forged = app.test_client()
    forged.set_cookie(
        "staff_device", '{"account": "x", "device": "y"}', domain="localhost", path="/staff/login"
    )
    assert sign_in_from(forged, "192.0.2.9", admin.email) == 429
    assert sign_in_from(admins_browser, "192.0.2.10", admin.email) == 302


def test_others_at_the_admins_own_address_cannot_keep_the_admin_out(make_app):
    """The newsroom's office, a shared flat: guesses at other accounts from the admin's
    address use up that address's limit, not the admin's browser's."""
    app = make_app(LOGIN_RATE_LIMIT_IP="3 per 15 minutes")
    with app.app_context():
        admin = make_account(email="chief@newsroom.example")
        admins_browser = browser_signed_in_before(app, admin.email)
        neighbour = app.test_client()
        codes = [sign_in_from(neighbour, "198.51.100.1", f"desk{n}@x.example") for n in range(4)]
        assert codes == [200, 200, 200, 429]
        assert sign_in_from(admins_browser, "198.51.100.1", admin.email) == 302


def test_the_device_cookie_names_no_one_and_goes_only_to_the_sign_in_form(client, admin):
    login(client, admin.email)
    cookie = client.get_cookie("staff_device", path="/staff/login")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert "admin" not in cookie.decoded_value and "newsroom" not in cookie.decoded_value
    assert client.get_cookie("staff_device") is None  # not sent to any other path


def test_login_needs_csrf_token_when_enabled(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        staff = make_account()
        response = login(app.test_client(), staff.email)
    assert response.status_code == 400


def test_login_replaces_the_pre_login_session(client, admin):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    before = client.get_cookie("session").value
    login(client, admin.email)
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == admin.get_id()


def test_no_remember_me_cookie(client, admin):
    login(client, admin.email)
    assert client.get_cookie("remember_token") is None


def test_signed_in_visit_to_login_goes_on(admin_client):
    response = admin_client.get("/staff/login?next=/staff/members")
    assert response.status_code == 302
    assert response.location == "/staff/members"


def test_logout_ends_the_session_server_side(client, admin):
    login(client, admin.email)
    stolen = client.get_cookie("session").value
    response = client.post("/staff/logout")
    assert response.status_code == 302 and response.location == "/staff/login"
    assert len(audit_rows("staff.logout")) == 1
    client.set_cookie("session", stolen)
    replayed = client.get("/staff/")
    assert replayed.status_code == 302
    assert replayed.location.startswith("/staff/login")


def test_logout_is_post_only(admin_client):
    assert admin_client.get("/staff/logout").status_code == 405
    assert admin_client.get("/staff/").status_code == 200


def test_disabling_ends_sessions(viewer_client, viewer, runner):
    assert viewer_client.get("/staff/").status_code == 200
    result = runner.invoke(args=["staff", "disable", viewer.email])
    assert result.exit_code == 0, result.output
    response = viewer_client.get("/staff/")
    assert response.status_code == 302
    assert response.location.startswith("/staff/login")


def set_stamps(client, *, login_ago: float, seen_ago: float) -> None:
    now = time.time()
    with client.session_transaction() as session:
        session[auth.LOGIN_AT] = int(now - login_ago)
        session[auth.SEEN_AT] = int(now - seen_ago)


@pytest.mark.parametrize(
    ("login_ago", "seen_ago", "reason"),
    [
        (3600, 31 * 60, "idle"),  # STAFF_IDLE_MINUTES = 30
        (13 * 3600, 60, "absolute"),  # STAFF_SESSION_HOURS = 12, though active a minute ago
    ],
)
def test_timeouts_end_the_session(admin_client, login_ago, seen_ago, reason):
    set_stamps(admin_client, login_ago=login_ago, seen_ago=seen_ago)
    response = admin_client.get("/staff/members?q=x")
    assert response.status_code == 302
    assert next_of(response.location) == "/staff/members?q=x"
    [entry] = audit_rows("staff.session_expired")
    assert entry.detail == {"reason": reason}
    # Ended for good: the session no longer holds the login.
    assert admin_client.get("/staff/").status_code == 302


def test_activity_within_limits_refreshes_the_idle_clock(admin_client):
    set_stamps(admin_client, login_ago=11 * 3600, seen_ago=29 * 60)
    assert admin_client.get("/staff/").status_code == 200
    with admin_client.session_transaction() as session:
        assert time.time() - session[auth.SEEN_AT] < 29 * 60


def test_session_without_stamps_is_expired(admin_client):
    with admin_client.session_transaction() as session:
        del session[auth.LOGIN_AT]
    assert admin_client.get("/staff/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "///evil.example",
        "/\tevil.example",
        "evil.example/staff",
    ],
)
def test_next_never_leaves_the_site(client, admin, target):
    response = client.post(
        "/staff/login",
        query_string={"next": target},
        data={"email": admin.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/staff/"


def test_next_to_our_own_page_is_honoured(client, admin):
    anonymous = client.get("/staff/members?q=x")
    assert next_of(anonymous.location) == "/staff/members?q=x"
    response = client.post(anonymous.location, data={"email": admin.email, "password": PASSWORD})
    assert response.location == "/staff/members?q=x"


@pytest.mark.parametrize(
    "path", ["/staff/login", "/staff/", "/staff/members", "/staff/members/no-such-member"]
)
def test_staff_pages_are_never_cached_or_framed(admin_client, path):
    """Members' names and emails stay out of caches (a shared computer's browser too), and no
    other site can frame a staff page to trick a click (clickjacking); a staff view's 404 too."""
    response = admin_client.get(path)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_reader_pages_stay_cacheable_and_the_banner_frameable(client):
    assert "X-Frame-Options" not in client.get("/embed/banner").headers
    assert client.get("/embed.js").headers["Cache-Control"].startswith("public")
