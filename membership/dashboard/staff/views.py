"""Staff sign-in and accounts: sign in and out (throttled, one answer for every failure, safe
redirects), change one's own password, and the admins' page to add and disable accounts."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import current_user, login_user

from membership.dashboard import bp
from membership.dashboard.auth import end_session, start_session
from membership.dashboard.redirects import safe_next
from membership.dashboard.staff import devices, services
from membership.dashboard.staff.access import admin_required, public, staff_required
from membership.dashboard.staff.forms import DisableForm, LoginForm, PasswordForm, StaffForm
from membership.extensions import db, limiter
from membership.models import StaffUser

# One message for unknown email, wrong password and disabled account: no account enumeration.
FAILED = "That email and password do not match an active staff account."


def next_or_home() -> str:
    return safe_next(request.args.get("next")) or url_for("dashboard.overview")


def per_ip_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT_IP"])


def per_account_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"])


def failed(response: Response) -> bool:
    """Only a sign-in that did not go through counts against the throttles: staff who sign in
    often must not lock themselves out. A success is the redirect onward; a 429 checked no
    password. Flask-Limiter tests the limit first and counts after the response, so guesses
    already in flight together can pass it, at most as many as the server answers at once."""
    return response.status_code != 429 and not 300 <= response.status_code < 400


def signed_in_account() -> str:
    """The rate-limit key for guesses at a signed-in account's password (a borrowed laptop)."""
    return f"staff-password:{current_user.id}"


def submitted_account() -> str:
    """The rate-limit key for the account being guessed at, however its email is typed."""
    return "staff-login:" + services.normalise_email(request.form.get("email", ""))[:320]


def begin_session(staff: StaffUser) -> None:
    """Nothing from before survives into the signed-in session (session fixation)."""
    session.clear()
    login_user(staff, remember=False)
    start_session(staff)


@bp.get("/login")
@public
def login() -> ResponseReturnValue:
    """The sign-in form; already signed in goes straight on."""
    if current_user.is_authenticated:
        return redirect(next_or_home())
    return render_template("dashboard/staff/login.html", form=LoginForm())


# Guesses are slowed per address and per account, but a browser the account has signed in on
# before is judged by its own failures only: others failing at an admin's email, from any
# number of addresses or from the admin's own network, cannot refuse the admin's password
# there (devices.py; README, Staff dashboard). A new browser waits out the account's limit.
# exempt_when and key_func: https://flask-limiter.readthedocs.io/en/stable/api.html
@bp.post("/login")
@public
@limiter.limit(
    per_ip_limit, scope="staff-login-ip", deduct_when=failed, exempt_when=devices.is_known
)
@limiter.limit(
    per_account_limit,
    key_func=submitted_account,
    scope="staff-login-account",
    deduct_when=failed,
    exempt_when=devices.is_known,
)
@limiter.limit(
    per_account_limit,
    key_func=devices.device_key,
    scope="staff-login-device",
    deduct_when=failed,
    exempt_when=devices.is_unknown,
)
def login_submit() -> ResponseReturnValue:
    """Check the credentials; on success start a brand-new session."""
    form = LoginForm()
    if not form.validate():
        return render_template("dashboard/staff/login.html", form=form), 400
    staff = services.sign_in(form.email.data or "", form.password.data or "")
    if staff is None:
        return render_template("dashboard/staff/login.html", form=form, error=FAILED), 200
    destination = next_or_home()
    begin_session(staff)
    response = redirect(destination)
    devices.remember(response, staff.email)
    return response


@bp.post("/logout")
@staff_required
def logout() -> ResponseReturnValue:
    """Sign out here and everywhere: the rotated token voids any copy of the session cookie."""
    services.sign_out(current_user._get_current_object())
    end_session()
    flash("You are signed out.", "info")
    return redirect(url_for("dashboard.login"))


@bp.get("/password")
@staff_required
def password() -> ResponseReturnValue:
    return render_template("dashboard/staff/password.html", form=PasswordForm())


@bp.post("/password")
@staff_required
@limiter.limit(per_account_limit, key_func=signed_in_account, scope="staff-password")
def password_submit() -> ResponseReturnValue:
    """A new password for the signed-in account, given the current one. Every other session of
    the account ends; this browser goes on in a new one."""
    form = PasswordForm()
    if not form.validate():
        return render_template("dashboard/staff/password.html", form=form), 400
    staff = current_user._get_current_object()
    try:
        services.change_password(staff, form.current.data or "", form.password.data or "")
    except services.WrongPassword as exc:
        form.current.errors = [str(exc)]
        return render_template("dashboard/staff/password.html", form=form), 400
    except services.StaffError as exc:
        form.password.errors = [str(exc)]
        return render_template("dashboard/staff/password.html", form=form), 400
    begin_session(staff)  # with the new session token: the old cookie is void
    flash("Your password is changed, and your other sessions have ended.", "info")
    return redirect(url_for("dashboard.overview"))


def accounts_page(form: StaffForm, status: int = 200, error: str | None = None) -> tuple[str, int]:
    return render_template(
        "dashboard/staff/accounts.html",
        form=form,
        disable_form=DisableForm(),
        staff=services.all_staff(),
        error=error,
    ), status


@bp.get("/staff")
@admin_required
def staff() -> ResponseReturnValue:
    """Every account with its role and state."""
    return accounts_page(StaffForm(formdata=None))


@bp.post("/staff")
@admin_required
def staff_create() -> ResponseReturnValue:
    """Add an account; the same password rules as `flask staff create`."""
    form = StaffForm()
    if not form.validate():
        return accounts_page(form, 400)
    try:
        created = services.create_staff(
            form.email.data or "", form.password.data or "", form.role.data
        )
    except services.StaffError as exc:
        db.session.rollback()
        return accounts_page(form, 400, str(exc))
    db.session.commit()
    flash(f"Added {created.email} as {created.role.value}.", "success")
    return redirect(url_for("dashboard.staff"))


@bp.post("/staff/<int:staff_id>/disable")
@admin_required
def staff_disable(staff_id: int) -> ResponseReturnValue:
    """Stop an account signing in and end its open sessions."""
    if not DisableForm().validate():
        abort(400)
    account = services.get_staff(staff_id)
    if account is None:
        abort(404)
    if account.id == current_user.id:
        # Locking yourself out mid-click helps nobody; another admin (or the CLI) can do it.
        flash("You cannot disable your own account here.", "error")
        return redirect(url_for("dashboard.staff"))
    if account.active:
        services.disable_staff(account)
        db.session.commit()
        flash(f"Disabled {account.email}; their sessions have ended.", "success")
    return redirect(url_for("dashboard.staff"))
