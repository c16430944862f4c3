"""The donation form: what the reader chooses, checked on the server whatever the browser did."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from membership.donations import services
from membership.models import ATTRIBUTION_COLUMNS, Frequency
from membership.money import Money, MoneyError

# The form carries the campaign as its slug; the rest as stored.
ATTRIBUTION_FIELDS = ("campaign", *ATTRIBUTION_COLUMNS)


class DonationForm(FlaskForm):
    frequency = RadioField(
        _l("How often?"),
        choices=[SelectChoice(f.value, label) for f, label in services.FREQUENCY_LABELS.items()],
        validators=[InputRequired(_l("Choose how often you would like to give."))],
    )
    # Suggested amounts in major units, or "other"; any amount within bounds is accepted.
    amount = RadioField(_l("Amount"), validate_choice=False)
    custom_amount = StringField(_l("Other amount"), validators=[Length(max=12)])
    currency = SelectField(_l("Currency"), validate_choice=False)
    newsletter = BooleanField(_l("Send me the newsletter"))
    # Add the estimated card fee (donations/fees.py); the label with the figure is the page's.
    cover_fees = BooleanField(_l("Cover the card fees"))
    # A honeypot: hidden from people (CSS and aria-hidden), filled in by form-filling bots.
    website = StringField(_l("Leave this field empty"))
    # One per rendered form: a double-submit of the same choices reuses one Checkout Session.
    submission = HiddenField()
    campaign = HiddenField()
    article_url = HiddenField()
    referrer = HiddenField()
    utm_source = HiddenField()
    utm_medium = HiddenField()
    utm_campaign = HiddenField()
    utm_content = HiddenField()
    utm_term = HiddenField()

    def validate_currency(self, field: Any) -> None:
        if field.data not in services.currencies():
            raise ValidationError(_l("Choose one of the currencies offered."))

    def validate(self, extra_validators: Any = None) -> bool:
        fields_ok = super().validate(extra_validators)
        self.money = self.parse_gift()
        return fields_ok and self.money is not None

    def parse_gift(self) -> Money | None:
        """The chosen amount as Money, or None with the reason put on the field the reader used."""
        currency = self.currency.data
        if currency not in services.currencies():
            return None
        custom = (self.custom_amount.data or "").strip().replace(",", ".")
        choice = self.amount.data or ""
        # Typed text wins over a ticked suggestion: without JavaScript nothing unticks it.
        if choice == "other" or custom:
            field, text = self.custom_amount, custom
        else:
            # A tile names its frequency ("month:10"; the banner and links send "10"): one of
            # another frequency was ticked before the reader switched, unseen without
            # JavaScript, so it is not taken as this gift's amount.
            frequency, _, text = choice.rpartition(":")
            field = self.amount
            if frequency and frequency != self.frequency.data:
                text = ""
        if not text:
            return self.refuse(field, _l("Choose an amount or enter your own."))
        try:
            money = Money.from_major(text, currency)
        except MoneyError:
            return self.refuse(field, _l("Enter an amount like 10 or 10.50."))
        low, high = services.amount_bounds(currency)
        if money < low:
            return self.refuse(
                field,
                _l("The smallest gift we can take is %(amount)s.", amount=low.format(locale())),
            )
        if high < money:
            return self.refuse(
                field,
                _l("For gifts above %(amount)s, please contact us.", amount=high.format(locale())),
            )
        return money

    @staticmethod
    def refuse(field: Any, message: Any) -> None:
        field.errors = [*field.errors, str(message)]
        return None

    @property
    def chosen_frequency(self) -> Frequency:
        return Frequency(self.frequency.data)


def locale() -> str:
    return str(get_locale() or "en")
