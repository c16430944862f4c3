"""Account test helpers: donors made by real sandbox checkouts, signed in through their link."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from membership.extensions import db
from membership.models import Member, OutboxEmail
from tests.webhooks.conftest import checkout, sandbox  # noqa: F401  (fixtures used here)

EMAIL = "zora.quill@example.org"
NAME = "Zora Quillfeather"


def latest_link(member: Member) -> str:
    """The sign-in link in the newest magic_link email to this member, as a path."""
    db.session.expire_all()
    email = db.session.scalars(
        sa.select(OutboxEmail)
        .where(OutboxEmail.member_id == member.id, OutboxEmail.template == "magic_link")
        .order_by(OutboxEmail.id.desc())
    ).first()
    assert email is not None, "no sign-in email in the outbox"
    return urlsplit(email.context["link"]).path


def sign_in(client, member: Member) -> None:
    response = client.post("/account/", data={"email": member.email})
    assert response.status_code == 200
    path = latest_link(member)
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 303, response.text
    assert response.headers["Location"].endswith("/account/home")


@pytest.fixture
def donor(sandbox, checkout):  # noqa: F811
    """A monthly 10 USD donor, made by paying a checkout in the sandbox (webhooks included)."""

    def make(
        frequency: str = "month",
        amount: int = 1000,
        currency: str = "USD",
        email: str = EMAIL,
        name: str | None = NAME,
        **fields,
    ) -> Member:
        session, _attempt = checkout(frequency, amount, currency, **fields)
        sandbox.pay(session.id, email=email, name=name)
        db.session.expire_all()
        member = db.session.scalar(sa.select(Member).where(Member.email == email.lower()))
        assert member is not None
        return member

    return make


def pii_hits(*needles: str) -> list[tuple[str, str]]:
    """(table, column) pairs where any text or JSON value contains a needle, ignoring case."""
    hits = []
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, sa.String | sa.Text | sa.JSON):
                continue
            text = sa.func.lower(sa.cast(column, sa.Text))
            for needle in needles:
                found = db.session.execute(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(text.contains(needle.lower(), autoescape=True))
                ).scalar_one()
                if found:
                    hits.append((table.name, column.name))
    return hits
