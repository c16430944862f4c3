"""Staff passwords: argon2id hashes that upgrade themselves, and the rules a new one must meet."""

from __future__ import annotations

import contextlib
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from membership.models import StaffUser

MIN_LENGTH = 12
MAX_LENGTH = 128  # argon2 copes with more; a cap stops megabyte "passwords" costing CPU
COMMON_PASSWORDS_FILE = "common_passwords.txt"

# argon2-cffi's defaults follow RFC 9106's second recommendation (argon2id, 64 MiB, t=3).
# When a release raises them, check_needs_rehash() notices and the next login upgrades the hash.
hasher = PasswordHasher()


class PasswordRejected(ValueError):
    """The password breaks a rule; the message says which, for the person choosing it."""


def hash_password(password: str) -> str:
    """An argon2id hash with a fresh salt."""
    return hasher.hash(password)


def verify(staff: StaffUser, password: str) -> bool:
    """Check the password; on success, re-hash it if our parameters moved on (caller commits)."""
    try:
        hasher.verify(staff.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    return True


@cache
def dummy_hash() -> str:
    return hasher.hash("not a real password, only burns time")


def spend_verify_time(password: str) -> None:
    """Do the work of one verification, so an unknown email answers as slowly as a known one."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        hasher.verify(dummy_hash(), password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords attackers try first, lower-cased."""
    text = resources.files(__package__).joinpath(COMMON_PASSWORDS_FILE).read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check(password: str, email: str) -> None:
    """Raise PasswordRejected unless the password is long enough, not common, not the email."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in common_passwords():
        raise PasswordRejected("That password is on the list of common passwords; pick another.")
    local_part = email.partition("@")[0].strip().lower()
    # Very short local parts ("al@") would reject half the dictionary; three letters is a name.
    if len(local_part) >= 3 and local_part in lowered:
        raise PasswordRejected("The password must not contain your email address.")
