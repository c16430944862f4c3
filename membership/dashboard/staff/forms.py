"""The staff forms: sign in, change one's own password, add an account, disable one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from membership.models import StaffRole


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )


class StaffForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    role = SelectField(
        "Role",
        choices=[
            SelectChoice(StaffRole.VIEWER.value, "Viewer"),
            SelectChoice(StaffRole.ADMIN.value, "Admin"),
        ],
        default=StaffRole.VIEWER.value,
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        "Password again", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )


class DisableForm(FlaskForm):
    """No fields: only the CSRF token."""
