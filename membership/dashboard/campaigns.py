"""Campaigns for staff: the list (everyone), create and edit with a live preview (admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from membership.dashboard import bp
from membership.dashboard.access import admin_required, staff_required
from membership.dashboard.audit import record
from membership.dashboard.campaign_forms import CampaignForm
from membership.donations import services
from membership.extensions import db
from membership.models import COUNTED, Campaign, Donation, Frequency
from membership.money import Money

AUDITED = ("slug", "name", "headline", "body", "button_text", "suggested_amounts",
           "default_frequency", "goal_amount", "goal_currency", "starts_at", "ends_at",
           "archived")  # fmt: skip


@bp.get("/campaigns")
@staff_required
def campaigns() -> str:
    """Every campaign, running ones marked, with what each raised in its goal's currency."""
    rows = db.session.scalars(
        sa.select(Campaign).order_by(Campaign.archived, Campaign.created_at.desc())
    ).all()
    running = services.active_campaign()
    raised = sa.select(Donation.campaign_id, Donation.currency, sa.func.sum(Donation.amount))
    totals = {
        (cid, currency): int(total)
        for cid, currency, total in db.session.execute(
            raised.where(Donation.status.in_(COUNTED), Donation.campaign_id.is_not(None)).group_by(
                Donation.campaign_id, Donation.currency
            )
        )
    }
    return render_template(
        "dashboard/campaigns.html",
        campaigns=rows,
        running_id=running.id if running else None,
        now=datetime.now(UTC),
        raised={
            c.id: Money(totals.get((c.id, c.goal_currency), 0), c.goal_currency)
            for c in rows
            if c.goal_currency
        },
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
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    form = CampaignForm(campaign_id=campaign.id)
    if not form.is_submitted():
        form.load(campaign)
        return editor(form, campaign, campaign)
    return submitted(form, campaign)


def submitted(form: CampaignForm, campaign: Campaign | None) -> Response | str | tuple[str, int]:
    if not form.validate():
        return editor(form, campaign, None), 400
    draft = Campaign(suggested_amounts={})  # transient: never added to the session
    form.apply(draft)
    if form.preview.data:
        return editor(form, campaign, draft)
    target = campaign or Campaign()
    before = {name: getattr(target, name) for name in AUDITED} if campaign else {}
    form.apply(target)
    changed = sorted(n for n in AUDITED if campaign is None or before[n] != getattr(target, n))
    if campaign is None:
        db.session.add(target)
    try:
        db.session.flush()
    except IntegrityError:  # another admin took the slug between our check and our insert
        db.session.rollback()
        form.slug.errors = [*form.slug.errors, "Another campaign already uses this slug."]
        return editor(form, campaign, None), 409
    action = "campaign.create" if campaign is None else "campaign.update"
    record(action, "campaign", target.id, {"slug": target.slug, "changed": changed})
    db.session.commit()
    return redirect(url_for("dashboard.campaign_edit", campaign_id=target.id, saved=1), 303)


def editor(form: CampaignForm, campaign: Campaign | None, shown: Campaign | None) -> str:
    return render_template(
        "dashboard/campaign_edit.html",
        form=form,
        campaign=campaign,
        preview=preview(shown) if shown is not None else None,
    )


def preview(campaign: Campaign) -> dict[str, Any]:
    """The prompt as readers would see it: copy and suggestions per frequency and currency."""
    amounts = {
        frequency.value: {
            currency: services.suggestions(campaign, frequency, currency)
            for currency in current_app.config["CURRENCIES"]
        }
        for frequency in Frequency
    }
    return {
        "prompt": services.prompt_copy(campaign),
        "amounts": amounts,
        "default_frequency": campaign.default_frequency or Frequency.MONTH,
    }
