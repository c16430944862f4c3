"""Campaigns: admins create and edit (audited), validation speaks, preview saves nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from membership.dashboard.campaigns.forms import format_suggestions
from membership.extensions import db
from membership.models import AuditEntry, Campaign, Frequency
from tests.factories import make_campaign

pytestmark = pytest.mark.usefixtures("app_context")

VALID = {
    "name": "Autumn appeal",
    "slug": "autumn",
    "headline": "Keep our reporters on the beat",
    "body": "Three reporters, one city, no paywall.",
    "button_text": "Chip in",
    "amounts_one_off": "USD: 20, 50, 100 (default 50)",
    "amounts_month": "USD: 7, 14, 28 (default 14)\nJPY: 700, 1400",
    "amounts_year": "",
    "default_frequency": "month",
    "goal_amount": "5000",
    "goal_currency": "USD",
    "starts_at": "",
    "ends_at": "",
    "save": "Save",
}


def campaigns() -> list[Campaign]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Campaign).order_by(Campaign.id)))


def audit() -> list[AuditEntry]:
    db.session.expire_all()
    stmt = sa.select(AuditEntry).where(AuditEntry.action.like("campaign.%"))
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def test_admin_creates_a_campaign_and_readers_see_it(admin_client, client, admin):
    response = admin_client.post("/staff/campaigns/new", data=VALID)
    assert response.status_code == 303
    [saved] = campaigns()
    assert saved.suggested_amounts == {
        "one_off": {"USD": {"amounts": [2000, 5000, 10000], "default": 5000}},
        "month": {
            "USD": {"amounts": [700, 1400, 2800], "default": 1400},
            "JPY": {"amounts": [700, 1400], "default": 700},
        },
    }
    assert (saved.goal_amount, saved.goal_currency, saved.default_frequency) == (
        500000,
        "USD",
        Frequency.MONTH,
    )
    [entry] = audit()
    assert (entry.action, entry.target_id, entry.staff_user_id) == (
        "campaign.create",
        str(saved.id),
        admin.id,
    )
    prompt = client.get("/").get_data(as_text=True)
    assert "Keep our reporters on the beat" in prompt and "Chip in" in prompt
    give = client.get("/give?campaign=autumn&currency=USD").get_data(as_text=True)
    assert "$7" in give and "$28" in give and "Three reporters" in give  # whole amounts
    assert re.search(r'value="month:14" id="[\w-]+" checked', give)  # the default, ticked


def test_edit_loads_the_text_form_and_audits_what_changed(admin_client):
    admin_client.post("/staff/campaigns/new", data=VALID)
    [saved] = campaigns()
    page = admin_client.get(f"/staff/campaigns/{saved.id}/edit").get_data(as_text=True)
    assert "USD: 7, 14, 28 (default 14)" in page and "JPY: 700, 1400 (default 700)" in page
    changed = VALID | {"headline": "New words", "amounts_month": "USD: 9 (default 9)"}
    assert admin_client.post(f"/staff/campaigns/{saved.id}/edit", data=changed).status_code == 303
    [edited] = campaigns()
    assert edited.headline == "New words"
    assert edited.suggested_amounts["month"] == {"USD": {"amounts": [900], "default": 900}}
    entry = audit()[-1]
    assert entry.action == "campaign.update"
    assert entry.detail == {"slug": "autumn", "changed": ["headline", "suggested_amounts"]}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slug": "Not A Slug"}, "Lower-case letters, digits and hyphens only."),
        ({"name": ""}, "This field is required."),
        ({"amounts_month": "USD 5 10"}, "like &#34;USD: 5, 10, 20 (default 10)&#34;"),
        ({"amounts_month": "USD: 5, ten"}, "Not an amount"),
        ({"amounts_month": "USD: 1, 5"}, "USD: amounts must be from $3.00 to $10,000.00."),
        ({"amounts_month": "JPY: 500.5"}, "JPY amounts have at most 0 decimal places"),
        ({"amounts_month": "CHF: 5"}, "CHF is not one of the currencies offered."),
        ({"amounts_month": "USD: 5, 10 (default 20)"}, "the default must be one of the amounts"),
        ({"amounts_month": "USD: 5\nUSD: 6"}, "USD is listed twice."),
        ({"goal_currency": ""}, "Choose the goal&#39;s currency."),
        (
            {"starts_at": "2026-05-01T00:00", "ends_at": "2026-04-01T00:00"},
            "The end must be after the start.",
        ),
    ],
)
def test_validation_errors_are_400_with_a_message(admin_client, fields, message):
    response = admin_client.post("/staff/campaigns/new", data=VALID | fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "Nothing was saved" in html
    assert campaigns() == [] and audit() == []


def test_a_taken_slug_is_refused(admin_client):
    make_campaign(slug="autumn")
    response = admin_client.post("/staff/campaigns/new", data=VALID)
    assert response.status_code == 400
    assert "Another campaign already uses this slug." in response.get_data(as_text=True)


def test_preview_renders_the_unsaved_prompt_and_saves_nothing(admin_client):
    data = VALID | {"save": "", "preview": "Preview", "headline": "Only a draft"}
    response = admin_client.post("/staff/campaigns/new", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    preview = html.split('class="campaign-preview"')[1]
    assert "Only a draft" in preview and "$14.00" in preview and "¥1,400" in preview
    assert "Preview only: nothing was saved." in html
    assert campaigns() == [] and audit() == []


def test_preview_of_an_existing_campaign_leaves_it_unchanged(admin_client):
    campaign = make_campaign(slug="autumn", headline="Saved words")
    data = VALID | {"save": "", "preview": "Preview", "headline": "Draft words"}
    html = admin_client.post(f"/staff/campaigns/{campaign.id}/edit", data=data).get_data(
        as_text=True
    )
    assert "Draft words" in html.split('class="campaign-preview"')[1]
    assert campaigns()[0].headline == "Saved words"


def test_viewers_list_but_cannot_edit(viewer_client):
    campaign = make_campaign(slug="winter", name="Winter appeal", goal_amount=100000,
                             goal_currency="EUR")  # fmt: skip
    html = viewer_client.get("/staff/campaigns").get_data(as_text=True)
    assert "Winter appeal" in html and "€0.00 of €1,000.00" in html and "/edit" not in html
    assert viewer_client.get("/staff/campaigns/new").status_code == 403
    assert viewer_client.post("/staff/campaigns/new", data=VALID).status_code == 403
    assert viewer_client.get(f"/staff/campaigns/{campaign.id}/edit").status_code == 403
    assert [c.slug for c in campaigns()] == ["winter"]


def test_unknown_campaign_is_404(admin_client):
    assert admin_client.get("/staff/campaigns/999/edit").status_code == 404


def test_format_suggestions_round_trips_zero_decimal_amounts(app):
    assert format_suggestions({"JPY": {"amounts": [500, 1000], "default": 1000}}) == (
        "JPY: 500, 1000 (default 1000)"
    )
