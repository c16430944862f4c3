"""/staff/emails: admins see the outbox; in development they read an email, and that is audited."""

from __future__ import annotations

import pytest

from membership.extensions import db
from membership.models import AuditEntry, OutboxEmail
from tests.factories import make_member
from tests.webhooks.conftest import rows

pytestmark = pytest.mark.usefixtures("app_context")


@pytest.fixture
def outbox_email(app) -> OutboxEmail:
    member = make_member(email="secret.donor@example.org", locale="ru")
    email = OutboxEmail(
        member_id=member.id,
        to_address=member.email,
        template="magic_link",
        locale="ru",
        dedupe_key="staff-view",
        context={"link": "http://localhost/account/sign-in/T0KEN", "minutes": 30},
    )
    db.session.add(email)
    db.session.commit()
    return email


def test_admins_see_the_list_without_addresses(admin_client, outbox_email) -> None:
    page = admin_client.get("/staff/emails").get_data(as_text=True)
    assert "magic_link" in page and "pending" in page
    assert "secret.donor" not in page
    filtered = admin_client.get("/staff/emails?status=sent").get_data(as_text=True)
    assert "No emails match." in filtered


def test_in_development_an_admin_reads_the_email_and_it_is_audited(
    admin_client, admin, outbox_email
) -> None:
    response = admin_client.get(f"/staff/emails/{outbox_email.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ваша ссылка для входа" in page  # the subject, in the email's language
    assert '<iframe class="email-html"' in page and 'sandbox=""' in page
    assert 'srcdoc="&lt;!doctype html&gt;' in page  # the HTML escaped into the attribute
    assert "T0KEN" not in page  # a sign-in link would let staff in as the donor
    assert "secret.donor" not in page
    [entry] = [e for e in rows(AuditEntry) if e.action == "email.view"]
    assert (entry.target_type, entry.target_id) == ("outbox_email", str(outbox_email.id))
    assert entry.staff_user_id == admin.id


def test_with_real_delivery_only_the_status_is_shown(app, admin_client, outbox_email) -> None:
    app.config["MAIL_SERVER"] = "smtp.example.org"
    page = admin_client.get(f"/staff/emails/{outbox_email.id}").get_data(as_text=True)
    assert "contents are not shown" in page
    assert "Ваша ссылка" not in page and "<iframe" not in page
    assert all(e.action != "email.view" for e in rows(AuditEntry))


@pytest.mark.parametrize("path", ["/staff/emails", "/staff/emails/{id}"])
def test_viewers_are_refused(viewer_client, outbox_email, path) -> None:
    response = viewer_client.get(path.format(id=outbox_email.id))
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/staff/emails", "/staff/emails/1"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_an_unknown_email_is_404(admin_client) -> None:
    assert admin_client.get("/staff/emails/999999").status_code == 404


def test_the_emails_inline_styles_apply_in_its_frame_and_no_script_runs(admin_client, outbox_email):
    """The preview frame inherits the page's policy: inline styles (what mail clients read)
    are let through on this page only; scripts stay as locked down as anywhere."""
    policy = admin_client.get(f"/staff/emails/{outbox_email.id}").headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
