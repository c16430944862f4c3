"""The donor's forms: CSRF on every POST, and every value checked on the server."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from membership.donations import services as donations
from membership.models import Interval
from membership.money import Money, MoneyError

# Deliberately loose: the address only has to be one we might know; nothing is sent otherwise.
EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+$"


class LinkRequestForm(FlaskForm):
    email = StringField(
        _l("Email address"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            InputRequired(_l("Enter the email address you gave with.")),
            Length(max=320),
            Regexp(EMAIL_SHAPE, message=_l("Enter an email address like name@example.org.")),
        ],
    )


class ButtonForm(FlaskForm):
    """A button that only needs its CSRF token: sign in, sign out, resume, card."""


class ChangeGiftForm(FlaskForm):
    amount = StringField(_l("Amount"), validators=[InputRequired(), Length(max=12)])
    interval = RadioField(
        _l("How often?"),
        choices=[
            SelectChoice(Interval.MONTH.value, _l("Monthly")),
            SelectChoice(Interval.YEAR.value, _l("Annual")),
        ],
        validators=[InputRequired()],
    )
    cover_fees = BooleanField(_l("Cover the card fees"))
    # Set by the confirmation step of a change of interval (gift_views.change).
    confirmed = HiddenField()

    def money(self, currency: str) -> Money | None:
        """The new amount, within the same bounds as the donation form, or None with a reason."""
        text = (self.amount.data or "").strip().replace(",", ".")
        try:
            money = Money.from_major(text, currency)
        except MoneyError:
            return self.refuse(_l("Enter an amount like 10 or 10.50."))
        low, high = donations.amount_bounds(currency)
        locale = str(get_locale() or "en")
        if money < low:
            return self.refuse(
                _l("The smallest gift we can take is %(amount)s.", amount=low.format(locale))
            )
        if high < money:
            return self.refuse(
                _l("For gifts above %(amount)s, please contact us.", amount=high.format(locale))
            )
        return money

    def refuse(self, message: Any) -> Money | None:
        """Put the reason on the amount field; there is no amount."""
        self.amount.errors = [*self.amount.errors, str(message)]
        return None


class PauseForm(FlaskForm):
    months = SelectField(
        _l("Pause for"),
        choices=[
            SelectChoice("1", _l("1 month")),
            SelectChoice("2", _l("2 months")),
            SelectChoice("3", _l("3 months")),
        ],
        validators=[InputRequired()],
    )


class CancelForm(FlaskForm):
    comment = TextAreaField(
        _l("Would you tell us why? (optional, sent to our payment provider only)"),
        validators=[Length(max=500)],
    )


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand: my recurring gift ends now and my details cannot be restored."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
