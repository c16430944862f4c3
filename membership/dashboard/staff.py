"""Staff management for admins: list accounts, add one with a role, disable one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from membership.dashboard import accounts, bp
from membership.dashboard.access import admin_required
from membership.extensions import db
from membership.models import StaffRole, StaffUser


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


def render_page(form: StaffForm, status: int = 200, error: str | None = None) -> tuple[str, int]:
    return render_template(
        "dashboard/staff.html",
        form=form,
        disable_form=DisableForm(),
        staff=accounts.all_staff(),
        error=error,
    ), status


@bp.get("/staff")
@admin_required
def staff() -> ResponseReturnValue:
    """Every account with its role and state."""
    return render_page(StaffForm(formdata=None))


@bp.post("/staff")
@admin_required
def staff_create() -> ResponseReturnValue:
    """Add an account; the same password rules as `flask staff create`."""
    form = StaffForm()
    if not form.validate():
        return render_page(form, 400)
    try:
        created = accounts.create_staff(
            form.email.data or "", form.password.data or "", form.role.data
        )
    except accounts.StaffError as exc:
        db.session.rollback()
        return render_page(form, 400, str(exc))
    db.session.commit()
    flash(f"Added {created.email} as {created.role.value}.", "success")
    return redirect(url_for("dashboard.staff"))


@bp.post("/staff/<int:staff_id>/disable")
@admin_required
def staff_disable(staff_id: int) -> ResponseReturnValue:
    """Stop an account signing in and end its open sessions."""
    if not DisableForm().validate():
        abort(400)
    account = db.session.get(StaffUser, staff_id)
    if account is None:
        abort(404)
    if account.id == current_user.id:
        # Locking yourself out mid-click helps nobody; another admin (or the CLI) can do it.
        flash("You cannot disable your own account here.", "error")
        return redirect(url_for("dashboard.staff"))
    if account.active:
        accounts.disable_staff(account)
        db.session.commit()
        flash(f"Disabled {account.email}; their sessions have ended.", "success")
    return redirect(url_for("dashboard.staff"))
