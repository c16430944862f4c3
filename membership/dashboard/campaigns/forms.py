"""The campaign editor's form, and the "USD: 5, 10, 20 (default 10)" suggested-amounts syntax."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from membership.donations.services import amount_bounds
from membership.extensions import db
from membership.models import Campaign, Frequency
from membership.money import Money, MoneyError

LINE = re.compile(r"^([A-Za-z]{3})\s*:\s*([^()]*?)\s*(?:\(\s*default\s+([^()]*?)\s*\))?$")
MAX_SUGGESTIONS = 6
FREQUENCY_FIELDS = {Frequency.ONE_OFF: "amounts_one_off", Frequency.MONTH: "amounts_month",
                    Frequency.YEAR: "amounts_year"}  # fmt: skip
AMOUNTS_HELP = 'One currency per line, e.g. "USD: 5, 10, 20 (default 10)"; blank uses the standard.'


def parse_suggestions(text: str) -> dict[str, dict[str, Any]]:
    """ "USD: 5, 10, 20 (default 10)" lines -> {"USD": {"amounts": [500, ...], "default": 1000}}."""
    table: dict[str, dict[str, Any]] = {}
    for raw in re.split(r"[\n;]", text or ""):
        if not raw.strip():
            continue
        match = LINE.match(raw.strip())
        if not match:
            raise ValueError(f'Write "{raw.strip()[:40]}" like "USD: 5, 10, 20 (default 10)".')
        code, listed, default = match.groups()
        code = code.upper()
        if code not in current_app.config["CURRENCIES"]:
            raise ValueError(f"{code} is not one of the currencies offered.")
        if code in table:
            raise ValueError(f"{code} is listed twice.")
        amounts = [checked_amount(part, code) for part in listed.split(",") if part.strip()]
        if not 1 <= len(amounts) <= MAX_SUGGESTIONS or len(set(amounts)) != len(amounts):
            raise ValueError(f"{code}: give 1 to {MAX_SUGGESTIONS} different amounts.")
        chosen = checked_amount(default, code) if default else amounts[0]
        if chosen not in amounts:
            raise ValueError(f"{code}: the default must be one of the amounts.")
        table[code] = {"amounts": amounts, "default": chosen}
    return table


def checked_amount(text: str, currency: str) -> int:
    """Major units -> minor units, within the gift bounds the donation form enforces."""
    try:
        money = Money.from_major(text.strip(), currency)
    except MoneyError as exc:
        raise ValueError(f"{currency}: {exc}.") from None
    low, high = amount_bounds(currency)
    if not low <= money <= high:
        raise ValueError(f"{currency}: amounts must be from {low} to {high}.")
    return money.amount


def format_suggestions(table: dict[str, Any] | None) -> str:
    """The stored shape back to the text staff edit."""
    lines = []
    for code, chosen in sorted((table or {}).items()):
        amounts = ", ".join(Money(int(a), code).plain for a in chosen["amounts"])
        lines.append(f"{code}: {amounts} (default {Money(int(chosen['default']), code).plain})")
    return "\n".join(lines)


class CampaignForm(FlaskForm):
    slug = StringField(
        "Slug (used in ?campaign= links)",
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message="Lower-case letters, digits and hyphens only."),
        ],
    )
    name = StringField("Name (staff only)", validators=[DataRequired(), Length(max=200)])
    headline = StringField("Headline", validators=[Optional(), Length(max=200)])
    body = TextAreaField("Body", validators=[Optional(), Length(max=2000)])
    button_text = StringField("Button", validators=[Optional(), Length(max=60)])
    amounts_one_off = TextAreaField("One-off amounts", description=AMOUNTS_HELP)
    amounts_month = TextAreaField("Monthly amounts", description=AMOUNTS_HELP)
    amounts_year = TextAreaField("Annual amounts", description=AMOUNTS_HELP)
    default_frequency = SelectField(
        "Preselected frequency", choices=[SelectChoice(f.value, f.value) for f in Frequency]
    )
    goal_amount = StringField("Goal amount", validators=[Optional(), Length(max=20)])
    goal_currency = SelectField("Goal currency", validators=[Optional()])
    starts_at = DateTimeLocalField("Starts (UTC)", validators=[Optional()])
    ends_at = DateTimeLocalField("Ends (UTC)", validators=[Optional()])
    archived = BooleanField("Archived")
    preview = SubmitField("Preview")
    save = SubmitField("Save")

    def __init__(self, *args: Any, campaign_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign_id = campaign_id
        offered = current_app.config["CURRENCIES"]
        self.goal_currency.choices = [SelectChoice("", "—")] + [SelectChoice(c) for c in offered]
        self.suggested: dict[str, Any] = {}

    def validate_slug(self, field: StringField) -> None:
        taken = sa.select(Campaign.id).where(Campaign.slug == field.data)
        if self.campaign_id is not None:
            taken = taken.where(Campaign.id != self.campaign_id)
        if db.session.scalar(taken) is not None:
            raise ValidationError("Another campaign already uses this slug.")

    def validate_goal_amount(self, field: StringField) -> None:
        if not field.data:
            return
        if not self.goal_currency.data:
            raise ValidationError("Choose the goal's currency.")
        try:
            if Money.from_major(field.data, self.goal_currency.data).amount <= 0:
                raise ValidationError("The goal must be more than zero.")
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None

    def validate_ends_at(self, field: DateTimeLocalField) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError("The end must be after the start.")

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then the three suggested-amount texts into self.suggested."""
        valid = super().validate(extra_validators)
        for frequency, name in FREQUENCY_FIELDS.items():
            field = self[name]
            try:
                parsed = parse_suggestions(field.data or "")
            except ValueError as exc:
                field.errors = [*field.errors, str(exc)]
                valid = False
                continue
            if parsed:
                self.suggested[frequency.value] = parsed
        return valid

    def load(self, campaign: Campaign) -> None:
        """Fill the form from a saved campaign (GET of the edit page)."""
        self.process(obj=campaign)
        for frequency, name in FREQUENCY_FIELDS.items():
            self[name].data = format_suggestions(campaign.suggested_amounts.get(frequency.value))
        self.default_frequency.data = campaign.default_frequency.value
        if campaign.goal_amount and campaign.goal_currency:
            self.goal_amount.data = Money(campaign.goal_amount, campaign.goal_currency).plain
        for name in ("starts_at", "ends_at"):
            value = getattr(campaign, name)
            self[name].data = value.astimezone(UTC).replace(tzinfo=None) if value else None

    def apply(self, campaign: Campaign) -> None:
        """Copy validated values onto a campaign (new or existing, possibly transient)."""
        campaign.slug, campaign.name = self.slug.data, self.name.data
        campaign.headline = (self.headline.data or "").strip() or None
        campaign.body = (self.body.data or "").strip() or None
        campaign.button_text = (self.button_text.data or "").strip() or None
        campaign.suggested_amounts = self.suggested
        campaign.default_frequency = Frequency(self.default_frequency.data)
        if self.goal_amount.data and self.goal_currency.data:
            goal = Money.from_major(self.goal_amount.data, self.goal_currency.data)
            campaign.goal_amount, campaign.goal_currency = goal.amount, goal.currency
        else:
            campaign.goal_amount = campaign.goal_currency = None
        campaign.starts_at = utc(self.starts_at.data)
        campaign.ends_at = utc(self.ends_at.data)
        campaign.archived = bool(self.archived.data)


def utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value else None
