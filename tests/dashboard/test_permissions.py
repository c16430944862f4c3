"""Every /staff route, found in the URL map, needs a login; admin-only ones refuse viewers.

Routes added later are covered without touching this file: a route that is not marked by
staff_required or admin_required fails here (and is refused at run time, see auth.py).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import render_template_string
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter, UUIDConverter

from membership import create_app
from membership.config import TestConfig
from membership.dashboard.staff.access import mask_email, staff_required
from membership.models import StaffRole
from tests.dashboard.conftest import login, make_account

pytestmark = pytest.mark.usefixtures("app_context")

PUBLIC_PATHS = {"/staff/login"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def dummy_value(rule: Rule, argument: str) -> object:
    """A well-formed value for a URL argument; it need not name a real row."""
    # The rule's own text names each argument's converter: <int:id>, <any(a, b):kind>.
    found = re.search(rf"<(?:(\w+)(?:\(([^)]*)\))?:)?{argument}>", rule.rule)
    name, args = (found.group(1), found.group(2)) if found else (None, None)
    converter = rule.map.converters.get(name or "default")
    if converter is not None and issubclass(converter, IntegerConverter):
        return 999999
    if converter is not None and issubclass(converter, UUIDConverter):
        return "00000000-0000-0000-0000-000000000000"
    if converter is not None and issubclass(converter, AnyConverter):
        return (args or "").split(",")[0].strip().strip("'\"")
    return "missing"


def staff_routes() -> list[tuple[str, str, str]]:
    """(rule, endpoint, method) for every /staff route except the sign-in page."""
    app = create_app(TestConfig)
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.rule in PUBLIC_PATHS:
            continue
        if rule.endpoint.endswith("static"):
            continue
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            found.append((rule.rule, rule.endpoint, method))
    return found


ROUTES = staff_routes()


def build(app, rule_text: str, endpoint: str, method: str) -> tuple[str, bool]:
    """The route's URL with dummy arguments, and whether it had any."""
    [rule] = [r for r in app.url_map.iter_rules() if r.rule == rule_text and r.endpoint == endpoint]
    values = {argument: dummy_value(rule, argument) for argument in rule.arguments}
    return app.url_map.bind("localhost").build(endpoint, values, method=method), bool(values)


def test_the_walk_finds_routes():
    endpoints = {endpoint for _, endpoint, _ in ROUTES}
    assert {"dashboard.overview", "dashboard.audit", "dashboard.webhooks"} <= endpoints


@pytest.mark.parametrize(
    ("rule", "endpoint", "method"), ROUTES, ids=[f"{m} {r}" for r, _, m in ROUTES]
)
def test_staff_route_permissions(app, client, viewer_client, admin_client, rule, endpoint, method):
    view = app.view_functions[endpoint]
    admin_only = getattr(view, "admin_only", False)
    assert admin_only or getattr(view, "staff_only", False), (
        f"{endpoint} has neither @staff_required nor @admin_required"
    )
    url, has_arguments = build(app, rule, endpoint, method)

    anonymous = client.open(url, method=method)
    assert anonymous.status_code == 302, f"anonymous {method} {url}"
    assert urlsplit(anonymous.location).path == "/staff/login"

    as_viewer = viewer_client.open(url, method=method)
    if admin_only:
        assert as_viewer.status_code == 403, f"viewer {method} {url}"
    elif not has_arguments:
        assert as_viewer.status_code in {200, 302, 303, 400, 405}, f"viewer {method} {url}"

    if method == "GET" and not has_arguments:
        as_admin = admin_client.open(url, method=method)
        assert as_admin.status_code in {200, 302, 303}, f"admin {method} {url}"


def test_an_unmarked_staff_view_is_refused(make_app):
    app = make_app()
    app.add_url_rule("/staff/forgotten", endpoint="dashboard.forgotten", view_func=lambda: "data")
    with app.app_context():
        client = app.test_client()
        login(client, make_account(StaffRole.ADMIN).email)
        assert client.get("/staff/forgotten").status_code == 403


def test_masking_helpers():
    assert mask_email("reader@example.org") == "r***@e***.org"
    assert mask_email("r@mail.example.co.uk") == "r***@m***.uk"
    assert mask_email("nodomain") == "n***"
    assert mask_email("") == "" and mask_email(None) == ""


def test_can_see_pii_follows_the_role(make_app):
    template = "{{ 'yes' if can_see_pii() else 'no' }} {{ 'reader@example.org'|mask_email }}"

    @staff_required
    def probe() -> str:
        return render_template_string(template)

    app = make_app()
    app.add_url_rule("/staff/pii-probe", endpoint="dashboard.pii_probe", view_func=probe)
    with app.app_context():
        seen = {}
        for role in StaffRole:
            client = app.test_client()
            login(client, make_account(role).email)
            seen[role] = client.get("/staff/pii-probe").data
    assert seen == {StaffRole.ADMIN: b"yes r***@e***.org", StaffRole.VIEWER: b"no r***@e***.org"}
