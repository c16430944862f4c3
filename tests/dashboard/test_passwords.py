"""Staff password hashing (argon2id, upgraded on login) and the rules a new password must meet."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from membership.dashboard.staff import passwords
from membership.dashboard.staff.passwords import PasswordRejected
from membership.extensions import db
from tests.dashboard.conftest import PASSWORD, login, make_account

pytestmark = pytest.mark.usefixtures("app_context")


def test_hashes_are_argon2id_and_salted():
    first, second = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second


def test_login_rehashes_when_parameters_changed(client):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    staff = make_account(password_hash=weak)
    assert passwords.hasher.check_needs_rehash(weak)

    assert login(client, staff.email).status_code == 302

    db.session.refresh(staff)
    assert staff.password_hash != weak
    assert staff.password_hash.startswith("$argon2id$")
    assert not passwords.hasher.check_needs_rehash(staff.password_hash)


def test_current_hash_is_left_alone(client):
    staff = make_account()
    before = staff.password_hash
    login(client, staff.email)
    db.session.refresh(staff)
    assert staff.password_hash == before


def test_a_broken_hash_is_a_failed_login_not_a_crash(client):
    staff = make_account(password_hash="not-a-hash")
    response = login(client, staff.email)
    assert response.status_code == 200
    assert b"do not match" in response.data


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("short-pw-11", "at least 12"),
        ("x" * 129, "at most 128"),
        ("password123456", "common"),
        ("QwertyUiop12", "common"),  # the list is compared case-insensitively
        ("jane.doe-is-great-2026", "email"),
        ("my name is JANE.DOE ok", "email"),
    ],
)
def test_rejected_passwords(password, complaint):
    with pytest.raises(PasswordRejected, match=complaint):
        passwords.check(password, "jane.doe@newsroom.example")


@pytest.mark.parametrize("password", ["x" * 12, "a long staff passphrase 42", "y" * 128])
def test_accepted_passwords(password):
    passwords.check(password, "jane.doe@newsroom.example")


def test_common_list_is_shipped_and_sizeable():
    common = passwords.common_passwords()
    assert len(common) >= 300
    assert "qwertyuiop12" in common
    assert all(word == word.lower() for word in common)
