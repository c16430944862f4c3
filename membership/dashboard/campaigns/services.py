"""Campaigns for staff: the list with what each raised, saving an edit (audited), the preview."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from membership.dashboard.audit.services import record
from membership.dashboard.campaigns.forms import CampaignForm
from membership.donations import services as donations
from membership.extensions import db
from membership.models import COUNTED, Campaign, Donation, Frequency
from membership.money import Money

AUDITED = ("slug", "name", "headline", "body", "button_text", "suggested_amounts",
           "default_frequency", "goal_amount", "goal_currency", "starts_at", "ends_at",
           "archived")  # fmt: skip


class SlugTaken(ValueError):
    """Another campaign took the slug between the form's check and our insert."""


@dataclass(frozen=True)
class CampaignList:
    campaigns: list[Campaign]  # archived last, newest first
    running_id: int | None  # the one the prompt shows now
    raised: dict[int, Money]  # per campaign with a goal, in the goal's currency


def campaign_list() -> CampaignList:
    """Every campaign, the running one, and what each raised in its goal's currency."""
    rows = list(
        db.session.scalars(
            sa.select(Campaign).order_by(Campaign.archived, Campaign.created_at.desc())
        )
    )
    running = donations.active_campaign()
    raised = sa.select(Donation.campaign_id, Donation.currency, sa.func.sum(Donation.amount))
    totals = {
        (cid, currency): int(total)
        for cid, currency, total in db.session.execute(
            raised.where(Donation.status.in_(COUNTED), Donation.campaign_id.is_not(None)).group_by(
                Donation.campaign_id, Donation.currency
            )
        )
    }
    return CampaignList(
        rows,
        running.id if running else None,
        {
            c.id: Money(totals.get((c.id, c.goal_currency), 0), c.goal_currency)
            for c in rows
            if c.goal_currency
        },
    )


def get_campaign(campaign_id: int) -> Campaign | None:
    return db.session.get(Campaign, campaign_id)


def draft(form: CampaignForm) -> Campaign:
    """The campaign the form would make, for the preview: transient, never added to the session."""
    campaign = Campaign(suggested_amounts={})
    form.apply(campaign)
    return campaign


def save(form: CampaignForm, campaign: Campaign | None) -> Campaign:
    """Store a validated form as a new campaign (None) or over one, audit-logged (committed)."""
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
        raise SlugTaken("Another campaign already uses this slug.") from None
    action = "campaign.create" if campaign is None else "campaign.update"
    record(action, "campaign", target.id, {"slug": target.slug, "changed": changed})
    db.session.commit()
    return target


def preview(campaign: Campaign) -> dict[str, Any]:
    """The prompt as readers would see it: copy and suggestions per frequency and currency."""
    amounts = {
        frequency.value: {
            currency: donations.suggestions(campaign, frequency, currency)
            for currency in current_app.config["CURRENCIES"]
        }
        for frequency in Frequency
    }
    return {
        "prompt": donations.prompt_copy(campaign),
        "amounts": amounts,
        "default_frequency": campaign.default_frequency or Frequency.MONTH,
    }
