"""Staff accounts: create, disable, sign in and out, change a password; for the pages and CLI."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from membership.dashboard.audit.services import record
from membership.dashboard.staff import passwords
from membership.extensions import db
from membership.models import StaffRole, StaffUser

# Deliberately loose: the address only has to reach a colleague; no need to second-guess RFC 5322.
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """The account change cannot be made; the message says why."""


class WrongPassword(StaffError):
    """The current password given to change it is not the account's."""


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


def sign_in(email: str, password: str) -> StaffUser | None:
    """The active account these credentials open, or None; either way the attempt is in the
    audit log (committed)."""
    result = authenticate(email, password)
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
        return None
    record("staff.login", "staff_user", result.staff.id, staff_user_id=result.staff.id)
    db.session.commit()  # also saves a hash upgraded by passwords.verify
    return result.staff


def sign_out(staff: StaffUser) -> None:
    """Sign out everywhere: the rotated token voids any copy of the session cookie (committed)."""
    record("staff.logout", "staff_user", staff.id)
    rotate_session_token(staff)
    db.session.commit()


def change_password(staff: StaffUser, current: str, new: str) -> None:
    """Staff's own change, given the current password; every session of the account ends
    (committed). Raises WrongPassword, or StaffError for a new password that breaks a rule."""
    if not passwords.verify(staff, current):
        record("staff.password_failed", "staff_user", staff.id)
        db.session.commit()
        raise WrongPassword("That is not your current password.")
    try:
        set_password(staff, new)
    except StaffError:
        db.session.rollback()
        raise
    db.session.commit()


def get_staff(staff_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, staff_id)


def all_staff() -> list[StaffUser]:
    return list(db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email)))
