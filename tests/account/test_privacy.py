"""Download my data, erase me, and no webhook afterwards bringing the PII back; the CLI too."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from membership import stripe_api
from membership.extensions import db
from membership.members import erasure
from membership.models import (
    AuditEntry,
    Member,
    OutboxEmail,
    RecurringDonation,
    SubscriptionStatus,
)
from tests.account.conftest import EMAIL, NAME, pii_hits, sign_in
from tests.factories import make_donation, make_member
from tests.webhooks.conftest import stripe_unreachable

pytestmark = pytest.mark.usefixtures("app_context")

ARTICLE = "https://news.example/2026/11/whistleblower-interview"


@pytest.fixture
def member(donor):
    return donor(article_url=ARTICLE, utm_source="newsletter")


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def test_export_holds_every_row_about_the_donor_and_nobody_else(client, member):
    stranger = make_member(email="stranger@example.org")
    make_donation(stranger, amount=9900)
    sign_in(client, member)
    response = client.get("/account/export.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(response.data)
    assert data["member"]["email"] == EMAIL and data["member"]["public_id"] == member.public_id
    assert "login_nonce" not in data["member"]
    assert [d["amount"] for d in data["donations"]] == [1000]
    assert [r["amount"] for r in data["recurring_donations"]] == [1000]
    assert [a["article_url"] for a in data["checkout_attempts"]] == [ARTICLE]
    templates = {e["template"] for e in data["outbox_emails"]}
    assert {"receipt", "magic_link"} <= templates
    assert all("link" not in e["context"] for e in data["outbox_emails"])
    assert "member.sign_in" in {a["action"] for a in data["audit_entries"]}
    # Nothing of the stranger: not their address or id, and not their gift's amount as a value
    # (as text, "9900" may turn up inside a random hex id).
    assert "stranger@example.org" not in response.text
    assert stranger.public_id not in response.text
    assert 9900 not in list(scalars(data))
    assert audit("member.export")[0].actor == "donor"


def scalars(value: object) -> Iterator[object]:
    """Every number and string in a JSON document."""
    if isinstance(value, dict):
        for item in value.values():
            yield from scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from scalars(item)
    else:
        yield value


def test_erasure_needs_the_confirmation(client, member):
    sign_in(client, member)
    assert client.post("/account/erase", data={}).status_code == 422
    db.session.expire_all()
    assert db.session.get(Member, member.id).erased_at is None


def test_erasure_ends_the_gift_at_stripe_and_leaves_no_pii(client, member, sandbox):
    customer_id = member.stripe_customer_id
    assert pii_hits(EMAIL, NAME)  # the scan does find them while they are there
    sign_in(client, member)
    response = client.post("/account/erase", data={"confirm": "y"})
    assert response.status_code == 200 and "erased" in response.text
    recurring = db.session.scalar(sa.select(RecurringDonation))
    sub = stripe_api.retrieve_subscription(recurring.stripe_subscription_id)
    assert sub["status"] == "canceled"
    assert recurring.status == SubscriptionStatus.CANCELED
    assert pii_hits(EMAIL, NAME, ARTICLE) == []
    erased = db.session.get(Member, member.id)
    assert erased.erased_at is not None and erased.email is None
    # No customer id stays: late webhooks are matched by its keyed fingerprint instead.
    assert erased.stripe_customer_id is None
    assert erasure.erased_member(customer_id, None) == erased
    assert [d.amount for d in erased.donations] == [1000]  # accounting stays
    assert client.get("/account/home").status_code == 302  # signed out
    [entry] = audit("member.erase")
    assert (entry.actor, entry.target_id) == ("donor", member.public_id)
    outbox = db.session.scalars(sa.select(OutboxEmail)).all()
    assert outbox and all(e.to_address is None and e.context == {} for e in outbox)


def test_webhooks_after_erasure_do_not_bring_the_pii_back(client, member, sandbox):
    customer_id = member.stripe_customer_id
    sign_in(client, member)
    client.post("/account/erase", data={"confirm": "y"})
    # Someone re-enters the details at Stripe; Stripe tells us.
    stripe_api.client().v1.customers.update(
        customer_id, params={"email": "Zora.Quill@example.org", "name": NAME}
    )
    sandbox.advance(days=40)
    assert "customer.updated" in sandbox.event_types()
    assert pii_hits(EMAIL, NAME) == []
    assert db.session.get(Member, member.id).email is None
    # The erased member is still the one matched by customer id: no new member was made.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 1


def test_erasure_stops_when_stripe_cannot_be_reached(app, client, member):
    sign_in(client, member)
    with stripe_unreachable(app):
        response = client.post("/account/erase", data={"confirm": "y"})
    assert response.status_code == 502 and "nothing was erased" in response.text
    db.session.expire_all()
    assert db.session.get(Member, member.id).email == EMAIL


def test_erasure_is_done_when_stripe_already_ended_the_gift_and_deleted_the_customer(
    client, member, sandbox
):
    """Stripe answers a second cancel with 404 and a deleted customer takes no update: the
    goal is reached either way, so erasure goes on (before, it refused: ErasureError)."""
    sign_in(client, member)
    sandbox.webhooks.hold()  # our rows still say the gift is live
    stripe_api.client().v1.customers.delete(member.stripe_customer_id)
    response = client.post("/account/erase", data={"confirm": "y"})
    assert response.status_code == 200 and "erased" in response.text
    sandbox.webhooks.release()
    assert pii_hits(EMAIL, NAME, ARTICLE) == []
    erased = db.session.get(Member, member.id)
    assert erased.erased_at is not None and erased.email is None
    assert db.session.scalar(sa.select(RecurringDonation.status)) == SubscriptionStatus.CANCELED


def test_cli_export_prints_json_and_is_audited(runner, member):
    result = runner.invoke(args=["member", "export", member.public_id])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["member"]["email"] == EMAIL
    assert audit("member.export")[0].actor == "cli"
    missing = runner.invoke(args=["member", "export", "nope"])
    assert missing.exit_code != 0 and "No member" in missing.output


def test_cli_erase_asks_unless_yes(runner, member, sandbox):
    declined = runner.invoke(args=["member", "erase", member.public_id], input="n\n")
    assert declined.exit_code != 0
    db.session.expire_all()
    assert db.session.get(Member, member.id).erased_at is None
    result = runner.invoke(args=["member", "erase", member.public_id, "--yes"])
    assert result.exit_code == 0, result.output
    assert pii_hits(EMAIL, NAME, ARTICLE) == []
    [entry] = audit("member.erase")
    assert entry.actor == "cli"
    again = runner.invoke(args=["member", "erase", member.public_id, "--yes"])
    assert "already erased" in again.output
