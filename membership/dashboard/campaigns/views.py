"""Campaigns for staff: the list (everyone), create and edit with a live preview (admins)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from membership.dashboard import bp
from membership.dashboard.campaigns import services
from membership.dashboard.campaigns.forms import CampaignForm
from membership.dashboard.staff.access import admin_required, staff_required
from membership.models import Campaign, Frequency
from membership.money import Money


@bp.get("/campaigns")
@staff_required
def campaigns() -> str:
    """Every campaign, running ones marked, with what each raised in its goal's currency."""
    found = services.campaign_list()
    return render_template(
        "dashboard/campaigns/list.html",
        campaigns=found.campaigns,
        running_id=found.running_id,
        now=datetime.now(UTC),
        raised=found.raised,
        money_of=lambda amount, currency: Money(amount, currency).format("en"),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
@admin_required
def campaign_new() -> Response | str | tuple[str, int]:
    """A new campaign; "Preview" shows the prompt it would make without saving anything."""
    form = CampaignForm()
    if not form.is_submitted():
        form.default_frequency.data = Frequency.MONTH.value
        return editor(form, None, Campaign(suggested_amounts={}))
    return submitted(form, None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@admin_required
def campaign_edit(campaign_id: int) -> Response | str | tuple[str, int]:
    """Edit copy, amounts, goal, window; "Preview" re-renders with the unsaved changes."""
    campaign = services.get_campaign(campaign_id) or abort(404)
    form = CampaignForm(campaign_id=campaign.id)
    if not form.is_submitted():
        form.load(campaign)
        return editor(form, campaign, campaign)
    return submitted(form, campaign)


def submitted(form: CampaignForm, campaign: Campaign | None) -> Response | str | tuple[str, int]:
    if not form.validate():
        return editor(form, campaign, None), 400
    if form.preview.data:
        return editor(form, campaign, services.draft(form))
    try:
        saved = services.save(form, campaign)
    except services.SlugTaken as exc:
        form.slug.errors = [*form.slug.errors, str(exc)]
        return editor(form, campaign, None), 409
    return redirect(url_for("dashboard.campaign_edit", campaign_id=saved.id, saved=1), 303)


def editor(form: CampaignForm, campaign: Campaign | None, shown: Campaign | None) -> str:
    return render_template(
        "dashboard/campaigns/edit.html",
        form=form,
        campaign=campaign,
        preview=services.preview(shown) if shown is not None else None,
    )
