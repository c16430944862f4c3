"""Staff accounts: create, disable, authenticate; shared by the sign-in page, staff page and CLI."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from membership.dashboard import passwords
from membership.dashboard.audit import record
from membership.extensions import db
from membership.models import StaffRole, StaffUser

# Deliberately loose: the address only has to reach a colleague; no need to second-guess RFC 5322.
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """The account change cannot be made; the message says why."""


@dataclass(frozen=True)
class LoginResult:
    staff: StaffUser | None  # set only on success
    account_id: int | None  # the account tried, when it exists: failures are filed under it
    reason: str | None  # why it failed, for the audit log only; never shown to the person


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalise_email(email)))


def create_staff(
    email: str, password: str, role: StaffRole | str, actor: str = "staff"
) -> StaffUser:
    """Add an account after checking the email and the password rules (caller commits)."""
    email = normalise_email(email)
    if not EMAIL_SHAPE.match(email) or len(email) > 320:
        raise StaffError("Enter a valid email address.")
    if find_by_email(email) is not None:
        raise StaffError("There is already an account with that email.")
    try:
        passwords.check(password, email)
    except passwords.PasswordRejected as exc:
        raise StaffError(str(exc)) from exc
    staff = StaffUser(
        email=email, password_hash=passwords.hash_password(password), role=StaffRole(role)
    )
    db.session.add(staff)
    db.session.flush()
    record(
        "staff.create", "staff_user", staff.id, {"email": email, "role": staff.role.value}, actor
    )
    return staff


def set_password(staff: StaffUser, password: str, actor: str | None = None) -> None:
    """A new password under the same rules; every session of the account ends (caller commits).

    Staff change their own at /staff/password; for someone who forgot theirs, an admin sets
    one from a shell (`flask staff set-password`).
    """
    try:
        passwords.check(password, staff.email)
    except passwords.PasswordRejected as exc:
        raise StaffError(str(exc)) from exc
    staff.password_hash = passwords.hash_password(password)
    rotate_session_token(staff)
    record("staff.password", "staff_user", staff.id, {"email": staff.email}, actor)


def rotate_session_token(staff: StaffUser) -> None:
    """Every login session of this user stops working at its next request."""
    staff.session_token = secrets.token_urlsafe(32)


def disable_staff(staff: StaffUser, actor: str = "staff") -> None:
    """Stop the account signing in and end its sessions everywhere (caller commits)."""
    staff.active = False
    rotate_session_token(staff)
    record("staff.disable", "staff_user", staff.id, {"email": staff.email}, actor)


def authenticate(email: str, password: str) -> LoginResult:
    """The active account these credentials open, or None and a reason for the audit log."""
    staff = find_by_email(email)
    if staff is None:
        # Same argon2 work as a real check: response time must not reveal which emails exist.
        passwords.spend_verify_time(password)
        return LoginResult(None, None, "unknown_account")
    if not passwords.verify(staff, password):
        return LoginResult(None, staff.id, "wrong_password")
    if not staff.active:
        return LoginResult(None, staff.id, "disabled")
    staff.last_login_at = datetime.now(UTC)
    return LoginResult(staff, staff.id, None)


def all_staff() -> list[StaffUser]:
    return list(db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email)))
