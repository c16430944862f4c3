"""Dashboard fixtures: staff accounts with real passwords, and clients signed in as them.

def test_something(admin_client, viewer_client): ...
def test_other(client, admin):
    login(client, admin.email, PASSWORD)
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from membership.dashboard.staff import passwords
from membership.models import StaffRole, StaffUser
from tests.factories import make_staff

PASSWORD = "a long staff passphrase 42"


@cache
def password_hash() -> str:
    """Hashed once per test session: argon2 is slow on purpose."""
    return passwords.hash_password(PASSWORD)


def make_account(role: StaffRole = StaffRole.VIEWER, **fields: Any) -> StaffUser:
    """A staff user whose password is PASSWORD."""
    return make_staff(**({"role": role, "password_hash": password_hash()} | fields))


def login(
    client: FlaskClient, email: str, password: str = PASSWORD, next: str | None = None
) -> TestResponse:
    """POST the sign-in form (CSRF is off in TestConfig); returns the unfollowed response."""
    url = "/staff/login" + (f"?next={next}" if next else "")
    return client.post(url, data={"email": email, "password": password})


@pytest.fixture
def admin(app_context) -> StaffUser:
    return make_account(StaffRole.ADMIN, email="admin@newsroom.example")


@pytest.fixture
def viewer(app_context) -> StaffUser:
    return make_account(StaffRole.VIEWER, email="viewer@newsroom.example")


@pytest.fixture
def admin_client(app, admin: StaffUser) -> FlaskClient:
    """A test client signed in as an admin."""
    client = app.test_client()
    response = login(client, admin.email)
    assert response.status_code == 302, response.status_code
    return client


@pytest.fixture
def viewer_client(app, viewer: StaffUser) -> FlaskClient:
    """A test client signed in as a viewer (emails masked, no exports, no edits)."""
    client = app.test_client()
    response = login(client, viewer.email)
    assert response.status_code == 302, response.status_code
    return client
