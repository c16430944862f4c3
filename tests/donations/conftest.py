"""Helpers for the reader-side tests: the app's sandbox, and the rows a submission leaves."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from membership import sandbox as sandbox_module
from membership.extensions import db
from membership.models import CheckoutAttempt

GOOD = {"frequency": "one_off", "amount": "25", "currency": "USD", "submission": "a" * 32}


@pytest.fixture
def sandbox(app):
    found = sandbox_module.of(app)
    assert found is not None, "tests run in demo mode"
    return found


def sessions(sandbox) -> list[dict[str, Any]]:
    return sandbox.store.all("checkout.session")


def attempts() -> list[CheckoutAttempt]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(CheckoutAttempt).order_by(CheckoutAttempt.id)))


def field_errors(html: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>(.*?)</p>', html)


def give(client, **fields: str):
    return client.post("/give", data=GOOD | fields)


def checked(html: str, name: str) -> list[str]:
    """Values of the checked radios (or selected options) named `name`."""
    found = []
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag):
            found += re.findall(r'value="([^"]*)"', tag)
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    if select:
        found += re.findall(r'<option selected value="([^"]*)"', select.group(1))
    return found
