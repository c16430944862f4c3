"""Staff accounts: `flask staff create/set-password/disable` and the admins' staff page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from membership.dashboard.staff import services as accounts
from membership.extensions import db
from membership.models import AuditEntry, StaffRole, StaffUser
from tests.dashboard.conftest import PASSWORD, login, make_account

pytestmark = pytest.mark.usefixtures("app_context")

NEW_PASSWORD = "a different passphrase 77"


def staff_by_email(email: str) -> StaffUser | None:
    db.session.expire_all()
    return accounts.find_by_email(email)


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_cli_create_prompts_twice_and_can_sign_in(runner, client):
    result = runner.invoke(
        args=["staff", "create", "Editor@Newsroom.Example", "--role", "admin"],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output  # hidden input is not echoed
    staff = staff_by_email("editor@newsroom.example")
    assert staff is not None and staff.role == StaffRole.ADMIN
    assert staff.password_hash.startswith("$argon2id$")
    assert login(client, "editor@newsroom.example", NEW_PASSWORD).status_code == 302
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "staff.create"))
    assert entry.actor == "cli" and entry.detail == {"email": staff.email, "role": "admin"}


def test_cli_create_rejects_mismatched_confirmation(runner):
    result = runner.invoke(
        args=["staff", "create", "a@newsroom.example"],
        input=f"{NEW_PASSWORD}\nsomething else entirely\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


def test_cli_create_from_stdin_defaults_to_viewer(runner):
    result = runner.invoke(
        args=["staff", "create", "desk@newsroom.example", "--password-stdin"],
        input=f"{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert staff_by_email("desk@newsroom.example").role == StaffRole.VIEWER


def test_cli_create_refuses_weak_password_and_duplicates(runner, admin):
    weak = runner.invoke(
        args=["staff", "create", "new@newsroom.example", "--password-stdin"],
        input="password123456\n",
    )
    assert weak.exit_code == 1 and "common" in weak.output
    assert staff_by_email("new@newsroom.example") is None
    duplicate = runner.invoke(
        args=["staff", "create", admin.email.upper(), "--password-stdin"], input=f"{NEW_PASSWORD}\n"
    )
    assert duplicate.exit_code == 1 and "already" in duplicate.output


def test_cli_disable_rotates_token_and_blocks_login(runner, client, viewer):
    token = viewer.session_token
    result = runner.invoke(args=["staff", "disable", viewer.email])
    assert result.exit_code == 0, result.output
    staff = staff_by_email(viewer.email)
    assert not staff.active and staff.session_token != token
    assert login(client, viewer.email).status_code == 200  # the generic failure
    assert "staff.disable" in actions()


def test_cli_set_password_lets_the_new_one_in_and_ends_every_session(runner, app, viewer):
    signed_in = app.test_client()
    assert login(signed_in, viewer.email).status_code == 302
    result = runner.invoke(
        args=["staff", "set-password", viewer.email.upper()],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0 and "sessions have ended" in result.output, result.output
    assert NEW_PASSWORD not in result.output
    assert signed_in.get("/staff/").status_code == 302  # back to the sign-in page
    assert login(app.test_client(), viewer.email, PASSWORD).status_code == 200  # refused
    assert login(app.test_client(), viewer.email, NEW_PASSWORD).status_code == 302
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "staff.password"))
    assert entry.actor == "cli" and entry.detail == {"email": viewer.email}


def test_cli_set_password_keeps_the_rules_and_the_old_password_when_refused(runner, app, viewer):
    weak = runner.invoke(
        args=["staff", "set-password", viewer.email, "--password-stdin"], input="password123456\n"
    )
    assert weak.exit_code == 1 and "common" in weak.output
    assert login(app.test_client(), viewer.email, PASSWORD).status_code == 302
    assert "staff.password" not in actions()
    ghost = runner.invoke(
        args=["staff", "set-password", "ghost@newsroom.example", "--password-stdin"],
        input=f"{NEW_PASSWORD}\n",
    )
    assert ghost.exit_code == 1 and "no staff account" in ghost.output


def test_cli_disable_unknown_email(runner):
    result = runner.invoke(args=["staff", "disable", "ghost@newsroom.example"])
    assert result.exit_code == 1 and "no staff account" in result.output


def test_staff_page_lists_accounts(admin_client, viewer):
    page = admin_client.get("/staff/staff")
    assert page.status_code == 200
    assert viewer.email.encode() in page.data


def test_admin_adds_an_account(admin_client, client):
    response = admin_client.post(
        "/staff/staff",
        data={
            "email": "fresh@newsroom.example",
            "role": "viewer",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert staff_by_email("fresh@newsroom.example").role == StaffRole.VIEWER
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "staff.create")
    ).one()
    assert entry.actor == "staff" and entry.staff_user_id is not None
    assert login(client, "fresh@newsroom.example", NEW_PASSWORD).status_code == 302


def test_admin_add_shows_password_rule(admin_client):
    response = admin_client.post(
        "/staff/staff",
        data={
            "email": "fresh@newsroom.example",
            "role": "admin",
            "password": "fresh-newsroom-1",
            "confirm": "fresh-newsroom-1",
        },
    )
    assert response.status_code == 400
    assert b"must not contain your email" in response.data
    assert staff_by_email("fresh@newsroom.example") is None


def test_admin_disables_an_account_and_ends_its_sessions(admin_client, viewer_client, viewer):
    assert viewer_client.get("/staff/").status_code == 200
    response = admin_client.post(f"/staff/staff/{viewer.id}/disable")
    assert response.status_code == 302
    assert not staff_by_email(viewer.email).active
    assert viewer_client.get("/staff/").status_code == 302
    assert "staff.disable" in actions()


def test_admin_cannot_disable_self(admin_client, admin):
    admin_client.post(f"/staff/staff/{admin.id}/disable")
    assert staff_by_email(admin.email).active
    assert admin_client.get("/staff/").status_code == 200


def test_disable_unknown_account_is_404(admin_client):
    assert admin_client.post("/staff/staff/999999/disable").status_code == 404


def test_second_admin_can_sign_in_after_another_is_disabled(client, admin):
    other = make_account(StaffRole.ADMIN)
    accounts.disable_staff(other)
    db.session.commit()
    assert login(client, admin.email, PASSWORD).status_code == 302


def change(client, current: str, new: str, again: str | None = None):
    data = {"current": current, "password": new, "confirm": new if again is None else again}
    return client.post("/staff/password", data=data)


def test_staff_change_their_own_password_and_end_their_other_sessions(app, viewer):
    here, elsewhere = app.test_client(), app.test_client()
    for client in (here, elsewhere):
        assert login(client, viewer.email).status_code == 302
    page = here.get("/staff/password")
    assert page.status_code == 200 and b'autocomplete="new-password"' in page.data
    response = change(here, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.location == "/staff/"
    assert here.get("/staff/").status_code == 200  # this browser goes on, in a new session
    assert elsewhere.get("/staff/").status_code == 302  # every other session has ended
    assert login(app.test_client(), viewer.email, PASSWORD).status_code == 200  # refused
    assert login(app.test_client(), viewer.email, NEW_PASSWORD).status_code == 302
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "staff.password"))
    assert (entry.actor, entry.staff_user_id) == ("staff", viewer.id)


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not my password at all", NEW_PASSWORD, None, b"not your current password"),
        (PASSWORD, NEW_PASSWORD, "a third passphrase 0000", b"Passwords differ."),
        (PASSWORD, "password123456", None, b"common"),
        (PASSWORD, "short", None, b"at least 12"),
    ],
)
def test_a_refused_change_says_why_and_keeps_the_old_password(
    viewer_client, app, viewer, current, new, again, message
):
    response = change(viewer_client, current, new, again)
    assert response.status_code == 400 and message in response.data
    assert viewer_client.get("/staff/").status_code == 200  # still signed in
    assert login(app.test_client(), viewer.email, PASSWORD).status_code == 302
    assert "staff.password" not in actions()
    assert ("staff.password_failed" in actions()) == (current != PASSWORD)


def test_the_password_page_needs_a_sign_in(client):
    for response in (client.get("/staff/password"), change(client, PASSWORD, NEW_PASSWORD)):
        assert response.status_code == 302 and response.location.startswith("/staff/login")
