"""Sign in and out: throttled, CSRF-protected, one answer for every failure, safe redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from membership.dashboard import accounts, bp, devices, passwords
from membership.dashboard.access import public, staff_required
from membership.dashboard.audit import record
from membership.dashboard.auth import end_session, start_session
from membership.extensions import db, limiter

# One message for unknown email, wrong password and disabled account: no account enumeration.
FAILED = "That email and password do not match an active staff account."


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("password", "Passwords differ.")]
    )


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "\" as "/" ("/\evil.example" is scheme-relative) and drop tabs and newlines.
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


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
    return "staff-login:" + accounts.normalise_email(request.form.get("email", ""))[:320]


@bp.get("/login")
@public
def login() -> ResponseReturnValue:
    """The sign-in form; already signed in goes straight on."""
    if current_user.is_authenticated:
        return redirect(next_or_home())
    return render_template("dashboard/login.html", form=LoginForm())


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
        return render_template("dashboard/login.html", form=form), 400
    result = accounts.authenticate(form.email.data or "", form.password.data or "")
    if result.staff is None:
        # Never the attempted password; the email only via the account id, when one exists.
        record(
            "staff.login_failed",
            "staff_user",
            result.account_id,
            {"reason": result.reason},
            actor="anonymous",  # whoever typed it; the account id says which account it was
            staff_user_id=result.account_id,
        )
        db.session.commit()
        return render_template("dashboard/login.html", form=form, error=FAILED), 200
    destination = next_or_home()
    # Nothing from before sign-in survives into the signed-in session (session fixation).
    session.clear()
    login_user(result.staff, remember=False)
    start_session(result.staff)
    record("staff.login", "staff_user", result.staff.id, staff_user_id=result.staff.id)
    db.session.commit()  # also saves a hash upgraded by passwords.verify
    response = redirect(destination)
    devices.remember(response, result.staff.email)
    return response


@bp.post("/logout")
@staff_required
def logout() -> ResponseReturnValue:
    """Sign out here and everywhere: the rotated token voids any copy of the session cookie."""
    staff = current_user._get_current_object()
    record("staff.logout", "staff_user", staff.id)
    accounts.rotate_session_token(staff)
    db.session.commit()
    end_session()
    flash("You are signed out.", "info")
    return redirect(url_for("dashboard.login"))


@bp.get("/password")
@staff_required
def password() -> ResponseReturnValue:
    return render_template("dashboard/password.html", form=PasswordForm())


@bp.post("/password")
@staff_required
@limiter.limit(per_account_limit, key_func=signed_in_account, scope="staff-password")
def password_submit() -> ResponseReturnValue:
    """A new password for the signed-in account, given the current one. Every other session of
    the account ends; this browser goes on in a new one."""
    form = PasswordForm()
    if not form.validate():
        return render_template("dashboard/password.html", form=form), 400
    staff = current_user._get_current_object()
    if not passwords.verify(staff, form.current.data or ""):
        record("staff.password_failed", "staff_user", staff.id)
        db.session.commit()
        form.current.errors = ["That is not your current password."]
        return render_template("dashboard/password.html", form=form), 400
    try:
        accounts.set_password(staff, form.password.data or "")
    except accounts.StaffError as exc:
        db.session.rollback()
        form.password.errors = [str(exc)]
        return render_template("dashboard/password.html", form=form), 400
    db.session.commit()
    session.clear()
    login_user(staff, remember=False)  # with the new session token: the old cookie is void
    start_session(staff)
    flash("Your password is changed, and your other sessions have ended.", "info")
    return redirect(url_for("dashboard.overview"))
