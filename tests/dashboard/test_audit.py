"""The audit log: what sign-in and staff changes write, and the admins' page that shows it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from membership.dashboard.audit import services
from membership.dashboard.audit.services import record
from membership.extensions import db
from membership.models import AuditEntry
from tests.dashboard.conftest import login

pytestmark = pytest.mark.usefixtures("app_context")


def actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def add_entries(*names: str) -> list[AuditEntry]:
    entries = [
        record(name, "member", f"m{n}", {"n": n}, actor="system") for n, name in enumerate(names)
    ]
    db.session.commit()
    return entries


def test_a_sign_in_session_leaves_a_trail(client, admin):
    login(client, "nobody@newsroom.example")
    login(client, admin.email, "not the right password")
    login(client, admin.email)
    client.post("/staff/logout")
    assert actions() == ["staff.login_failed", "staff.login_failed", "staff.login", "staff.logout"]


def test_record_outside_a_request_is_the_system(app):
    entry = record("members.lapse", detail={"count": 3})
    db.session.commit()
    assert entry.actor == "system" and entry.staff_user_id is None


def test_page_shows_entries_newest_first_with_who(admin_client, admin):
    add_entries("export.members", "member.view_pii")
    page = admin_client.get("/staff/audit").get_data(as_text=True)
    rows = [f"<code>{name}</code>" for name in ("member.view_pii", "export.members", "staff.login")]
    assert page.index(rows[0]) < page.index(rows[1]) < page.index(rows[2])
    assert admin.email in page  # the login entry names its staff user


def test_filter_by_action_offers_every_action_in_the_table(admin_client):
    add_entries("export.members", "campaign.update", "export.members")
    page = admin_client.get("/staff/audit?action=export.members").get_data(as_text=True)
    assert page.count("<code>export.members</code>") == 2
    assert "<code>campaign.update</code>" not in page
    assert '<option value="campaign.update">' in page  # still offered in the filter
    assert '<option value="webhook.replay">' in page  # known even before it first happens


def test_detail_is_escaped(admin_client):
    record("campaign.update", "campaign", 1, {"name": "<img src=x onerror=alert(1)>"})
    db.session.commit()
    page = admin_client.get("/staff/audit").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x" in page


def test_pages_with_a_keyset_cursor(admin_client, monkeypatch):
    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    add_entries(*[f"test.step{n}" for n in range(4)])  # plus the admin's own staff.login
    expected = list(reversed(actions()))
    seen, cursor = [], None
    while True:
        found = services.find_entries(None, cursor)
        seen += [e.action for e in found.entries]
        url = "/staff/audit" + (f"?before={cursor}" if cursor else "")
        page = admin_client.get(url).get_data(as_text=True)
        assert all(f"<code>{e.action}</code>" in page for e in found.entries)
        if found.next_cursor is None:
            assert "Older entries" not in page
            break
        assert f"before={found.next_cursor}" in page
        cursor = found.next_cursor
    assert seen == expected


def test_a_junk_cursor_shows_the_first_page(admin_client):
    assert admin_client.get("/staff/audit?before=abc").status_code == 200
