"""Hostile input gets a 4xx, never a 500: control characters, files, huge ids, nonsense values.

The cases reported first, then a property test over every route in app.url_map: each gets
paths, query parameters and form fields (every field name the forms have, and the parameter
names the views read) drawn by Hypothesis, from clients signed in as an admin and a donor.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from membership import create_app
from membership.config import TestConfig
from membership.dashboard.members import search as member_search
from membership.donations.checkout import UTM_KEYS
from membership.extensions import db
from membership.models import Member, StaffRole
from tests.account.conftest import donor, sign_in  # noqa: F401  (fixtures used here)
from tests.dashboard.conftest import login, make_account
from tests.factories import make_campaign, make_event, make_member
from tests.webhooks.conftest import checkout, sandbox  # noqa: F401  (fixtures used here)

pytestmark = pytest.mark.usefixtures("app_context")

NUL_MESSAGE = "control characters"
# High enough that no example meets a 429 (which would hide what the view does with input).
NO_LIMITS = {
    name: "100000 per minute"
    for name in (
        "CHECKOUT_RATE_LIMIT",
        "CHECKOUT_GLOBAL_RATE_LIMIT",
        "ACCOUNT_LINK_RATE_LIMIT",
        "ACCOUNT_LINK_RATE_LIMIT_EMAIL",
        "ACCOUNT_ACTION_RATE_LIMIT",
        "LOGIN_RATE_LIMIT_IP",
        "LOGIN_RATE_LIMIT_ACCOUNT",
    )
}


@pytest.fixture
def signed_in(app, donor):  # noqa: F811
    """Clients signed in as an admin and as a donor with a monthly gift, and the app's ids."""
    app.config.update(NO_LIMITS)  # each limit is read from the config at each request
    account = make_account(StaffRole.ADMIN, email="hostile.admin@newsroom.example")
    member = donor()
    ids = {
        "staff": account.id,
        "campaign": make_campaign().id,
        "recurring": member.recurring_donations[0].id,
        "donation": member.donations[0].id,
        "event": make_event().id,
    }
    sessions = Sessions(app, account.email, member)
    sessions.renew()
    return sessions, ids


class Sessions:
    """A staff and a donor client (signing in clears the session: one client holds one), signed
    in again after an example signed one out (sign-out, erase, logout)."""

    def __init__(self, app: Any, staff_email: str, member: Member) -> None:
        self.staff, self.donor = app.test_client(), app.test_client()
        self.staff_email, self.member = staff_email, member

    def client_for(self, path: str) -> Any:
        return self.staff if path.startswith("/staff") else self.donor

    def renew(self) -> None:
        if self.staff.get("/staff/").status_code != 200:
            assert login(self.staff, self.staff_email).status_code == 302
        if self.donor.get("/account/home").status_code != 200:
            db.session.refresh(self.member)
            if self.member.erased_at is not None:
                self.member = make_member()
            sign_in(self.donor, self.member)


NUL_PATHS = [
    "/?lang=%00",  # a NUL is refused, not ignored like an unknown language (test_i18n.py)
    "/give/cancelled/%00",
    "/give?campaign=%00",
    "/embed/banner?utm_source=a%00",
    "/staff/members?q=%00",
    "/staff/members?status=%01",
    "/staff/exports/members.csv?q=%00",
    "/staff/exports/donations.csv?campaign=%00",
    "/staff/webhooks?type=%00",
    "/staff/audit?action=%00",
    "/staff/emails?template=%00",
    "/account/home?x%00=1",
]
NUL_FORMS = [
    ("/staff/login", {"email": "admin\x00@newsroom.example", "password": "x"}),
    ("/account/", {"email": "reader\x00@example.org"}),
    ("/staff/campaigns/new", {"slug": "spring\x00", "name": "Spring"}),
    ("/staff/campaigns/new", {"slug": "spring", "name": "Spring \x00 appeal"}),
    ("/give", {"frequency": "one_off", "amount": "other", "custom_amount": "5\x00"}),
    ("/give", {"utm_source": "\x1b[31m"}),
]
HUGE = "99999999999999999999999"
HUGE_IDS = [
    f"/account/receipts/{HUGE}",
    f"/account/gifts/{HUGE}",
    f"/account/statements/{HUGE}",
    f"/staff/emails/{HUGE}",
    f"/staff/campaigns/{HUGE}/edit",
    f"/staff/emails/{2**31}",
    "/staff/emails/" + "9" * 5000,  # past the digits Python's int() takes at all
]
HUGE_CURSORS = [
    f"/staff/audit?before={HUGE}",
    "/staff/audit?before=" + "9" * 5000,
    "/staff/audit?before=²",
    f"/staff/emails?after={HUGE}",
    f"/sandbox/mailbox?before={HUGE}",
    f"/staff/members?after=2026-01-01T00:00:00%2B00:00~{HUGE}",
    "/staff/members?after=9999-12-31T23:00:00-05:00~1",
    f"/staff/members?sort=total&after={HUGE}{HUGE}~1",
]


def test_a_control_character_in_a_path_query_or_form_is_a_400_that_says_why(signed_in):
    """Each reached the database before, as a DataError (a 500) on PostgreSQL."""
    sessions, _ids = signed_in
    answers = [sessions.client_for(path).get(path) for path in NUL_PATHS]
    answers += [sessions.client_for(path).post(path, data=form) for path, form in NUL_FORMS]
    said = [r for r in answers if r.status_code == 400 and NUL_MESSAGE in r.get_data(as_text=True)]
    assert [r.request.full_path for r in answers if r not in said] == []


def test_line_breaks_and_tabs_in_a_text_area_are_kept(signed_in):
    sessions, ids = signed_in
    response = sessions.donor.post(
        f"/account/gifts/{ids['recurring']}/cancel", data={"comment": "Too much\r\n\tfor now"}
    )
    assert response.status_code == 303


def test_a_file_where_text_belongs_is_a_400(client):
    data = {"frequency": "one_off", "amount": "other", "custom_amount": (io.BytesIO(b"5"), "a")}
    response = client.post("/give", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not files" in response.get_data(as_text=True)


def test_an_id_past_its_column_is_a_404_and_a_cursor_past_it_no_500(signed_in):
    sessions, _ids = signed_in
    assert {path: sessions.client_for(path).get(path).status_code for path in HUGE_IDS} == {
        path: 404 for path in HUGE_IDS
    }
    statuses = {path: sessions.client_for(path).get(path).status_code for path in HUGE_CURSORS}
    assert {path: status for path, status in statuses.items() if status not in (200, 400)} == {}


# Property test -------------------------------------------------------------------------


def form_field_names() -> list[str]:
    """Every field of every form, and the fields views read from request.form directly."""
    forms: list[type] = []
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        forms.append(form)
        pending.extend(form.__subclasses__())
    names = {
        name
        for form in forms
        for klass in form.__mro__
        for name, value in vars(klass).items()
        if isinstance(value, UnboundField)
    }
    direct = {"email", "name", "card_number", "iban", "back", "cf-turnstile-response"}
    return sorted(names | direct | {"h-captcha-response", "csrf_token"})


QUERY_NAMES = sorted(
    {
        *("campaign", "frequency", "currency", "amount", "cover_fees", "cancelled", "lang"),
        *("session_id", "article_url", "referrer", *UTM_KEYS, "next", "from", "to", "kind"),
        *("after", "before", "action", "type", "state", "template", "status"),
        *member_search.MemberFilters.__dataclass_fields__,
    }
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b",
            "\x1b[2J",
            "\ufeff",
            "\u202e",
            "9" * 30,
            "-1",
            "1e400",
            "NaN",
            "0x10",
            "٣",
            "²",
            "<script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "x" * 5000,
            "2026-02-30",
            "9999-12-31T23:00:00-05:00~1",
            "one_off",
            "month",
            "other",
            "USD",
            "y",
            "10",
        ]
    ),
    st.integers().map(str),
)
ID = st.one_of(
    st.integers(min_value=0, max_value=2**31 - 1).map(str),
    st.sampled_from(["0", HUGE, "9" * 400, "2147483648"]),
)


def routes() -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) for every route the app serves in tests (demo mode)."""
    app = create_app(TestConfig)
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, rule.endpoint))
    return sorted(found)


ROUTES = routes()
SIGNS_OUT = {"account.sign_out", "account.erase", "dashboard.logout"}
FIELD_NAMES = form_field_names()  # after routes(): create_app has imported every form
ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")


def test_the_property_test_reaches_every_route():
    endpoints = {endpoint for _rule, _method, endpoint in ROUTES}
    assert {"account.request_link", "dashboard.campaign_new", "webhooks.receive"} <= endpoints
    assert len(ROUTES) > 40


@settings(
    max_examples=8,  # each example sends one request to every route
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is reproducible
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_to_any_route_is_a_server_error(signed_in, data):
    sessions, ids = signed_in
    known = [str(value) for value in ids.values()]

    def argument(match: re.Match[str]) -> str:
        values = ID if match[1] == "int" else TEXT
        return quote(data.draw(st.one_of(st.sampled_from(known), values), label=match[2]), safe="")

    for rule, method, endpoint in ROUTES:
        path = ARGUMENT.sub(argument, rule)
        query = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), TEXT, max_size=4))
        client = sessions.client_for(path)
        if method == "GET":
            response = client.get(path, query_string=query)
        else:
            form = data.draw(st.dictionaries(st.sampled_from(FIELD_NAMES), TEXT, max_size=6))
            response = client.post(path, query_string=query, data=form)
        assert response.status_code < 500, (method, path, query, response.status_code)
        if endpoint in SIGNS_OUT:
            sessions.renew()
