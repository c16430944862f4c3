"""Erasure is final: events that arrive after it, late or crafted, bring no one back."""

from __future__ import annotations

import copy
import logging

import pytest
import sqlalchemy as sa

from membership.dashboard.audit.services import record
from membership.extensions import db
from membership.members import erasure
from membership.models import AuditEntry, Donation, ErasedIdentity, Member, OutboxEmail
from tests.account.conftest import EMAIL, NAME, pii_hits, sign_in
from tests.webhooks.conftest import deliver

pytestmark = pytest.mark.usefixtures("app_context")

# Types the probe crafted and signed about her customers after the erasure, each made from a
# real event of that object's type from before it.
CRAFTED = {"invoice.paid": "invoice.paid", "charge.updated": "charge.succeeded"}
CRAFTED |= {"customer.updated": "customer.created"}


def customers_of_hers(sandbox) -> list[str]:
    return [c["id"] for c in sandbox.store.all("customer")]


def crafted_events(sandbox) -> list[dict]:
    made = []
    for index, (event_type, source_type) in enumerate(CRAFTED.items()):
        for source in sandbox.events(source_type):
            event = copy.deepcopy({k: v for k, v in source.items() if not k.startswith("_")})
            event.update(id=f"evt_crafted{index}{len(made):016d}", type=event_type)
            made.append(event)
    return made


def test_late_and_crafted_events_after_erasure_leave_no_trace(
    app, client, donor, checkout, sandbox, caplog
):
    caplog.set_level(logging.INFO)
    member = donor("month")
    donor("one_off", amount=1500)
    # A third gift, paid before the erasure; Stripe's news of it comes after (an outage).
    session, _ = checkout("one_off", 700, "USD")
    sandbox.webhooks.hold()
    sandbox.pay(session.id, email=EMAIL, name=NAME)
    assert {e["type"] for e in sandbox.webhooks.pending()} >= {
        "checkout.session.completed",
        "charge.succeeded",
        "customer.created",
        "payment_method.attached",
    }
    crafted = crafted_events(sandbox)
    customers = customers_of_hers(sandbox)
    assert len(customers) == 3  # every checkout made its own customer

    sign_in(client, member)
    assert client.post("/account/erase", data={"confirm": "y"}).status_code == 200
    sandbox.webhooks.release()  # the late events, then what the erasure itself caused
    for event in crafted:
        assert deliver(client, app, event).status_code == 200

    assert pii_hits(EMAIL, NAME, *customers) == []
    db.session.expire_all()
    assert db.session.scalars(sa.select(Member)).all() == [db.session.get(Member, member.id)]
    assert (
        db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address.is_not(None))).all()
        == []
    )
    # The late gift still counts, on the erased member's pseudonymous row.
    gifts = db.session.scalars(sa.select(Donation.amount).where(Donation.member_id == member.id))
    assert sorted(gifts) == [700, 1000, 1500]
    # At Stripe: no customer of hers keeps her details, the third one included.
    with sandbox.store.lock:
        for customer_id in customers:
            held = sandbox.store.objects[customer_id]
            assert not held["email"] and not held["name"], customer_id
    # Only fingerprints remain, and they recognise all three customers and the email.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ErasedIdentity)) == 4
    for customer_id in customers:
        assert erasure.erased_member(customer_id, None).id == member.id
    logged = caplog.text.lower()
    assert all(n.lower() not in logged for n in (EMAIL, NAME, *customers))


def test_a_donor_who_gives_again_after_erasure_is_a_new_member(
    app, client, donor, checkout, sandbox
):
    member = donor("one_off")
    sign_in(client, member)
    client.post("/account/erase", data={"confirm": "y"})
    session, _ = checkout("one_off", 900, "USD")  # her own new act, after the erasure
    sandbox.pay(session.id, email=EMAIL, name=NAME)
    db.session.expire_all()
    again = db.session.scalar(sa.select(Member).where(Member.email == EMAIL))
    assert again is not None and again.id != member.id
    assert [d.amount for d in again.donations] == [900]
    assert erasure.erased_member(None, EMAIL) is None  # her email is hers to give again


def test_erasure_scrubs_audit_details_that_name_her(app, client, donor):
    member = donor("one_off")
    with app.test_request_context():
        record("export.members", "member", None, {"filters": {"q": EMAIL.upper()}})
        record("export.members", "member", None, {"filters": {"q": "someone@else.example"}})
        db.session.commit()
    sign_in(client, member)
    client.post("/account/erase", data={"confirm": "y"})
    db.session.expire_all()
    details = [
        e.detail
        for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        if e.action.startswith("export")
    ]
    assert details == [{"filters": {"q": "[erased]"}}, {"filters": {"q": "someone@else.example"}}]
