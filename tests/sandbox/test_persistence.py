"""Demo mode keeps the stand-in's state in a file: a restart, or another worker, sees it all."""

from __future__ import annotations

import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from membership import sandbox as sandbox_pkg
from membership import stripe_api
from membership.extensions import db
from membership.models import CheckoutAttempt, Donation, Member, StripeEvent
from membership.sandbox import Sandbox
from membership.sandbox.store import ID_LENGTHS, random_id

GIFT = {"frequency": "one_off", "amount": "25", "currency": "USD"}


def give_and_pay(app, email: str, submission: str) -> str:
    """A reader's whole gift through the app's pages; returns the Checkout Session id."""
    browser = app.test_client()
    started = browser.post("/give", data=GIFT | {"submission": submission})
    assert started.status_code == 303, started.get_data(as_text=True)[:500]
    checkout_url = started.headers["Location"]
    paid = browser.post(checkout_url, data={"email": email, "card_number": "4242424242424242"})
    assert paid.status_code == 303
    return checkout_url.rsplit("/", 1)[1]


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_restart_keeps_every_object_and_gives_no_id_twice(make_app, tmp_path):
    state = str(tmp_path / "stripe-sandbox.db")
    before = make_app(SANDBOX_STATE=state)
    with before.app_context():
        first = give_and_pay(before, "first@example.com", "a" * 32)
        assert count(Donation) == 1

    after = make_app(SANDBOX_STATE=state)  # the server started again on the same files
    with after.app_context():
        second = give_and_pay(after, "second@example.com", "b" * 32)
        assert second != first
        # The second payment's events were new to the inbox, so they made a member and a gift.
        assert count(Donation) == 2 and count(Member) == 2 and count(CheckoutAttempt) == 2
        events = db.session.scalars(sa.select(StripeEvent.id)).all()
        assert len(events) == len(set(events))
        # What was made before the restart is still at "Stripe".
        session = stripe_api.client().v1.checkout.sessions.retrieve(first)
        assert session.status == "complete"
        thanks = after.test_client().get(f"/thanks?session_id={first}")
        assert thanks.status_code == 200


def test_two_processes_on_one_file_see_each_others_writes(tmp_path):
    path = str(tmp_path / "shared.db")
    one, two = Sandbox(path=path), Sandbox(path=path)
    customer = one.client().v1.customers.create(params={"email": "a@example.com"})
    fetched = two.client().v1.customers.retrieve(customer.id)
    assert fetched.email == "a@example.com"
    two.client().v1.customers.update(customer.id, params={"name": "Ana"})
    assert one.client().v1.customers.retrieve(customer.id).name == "Ana"
    # Each queued the events of its own writes, in one shared queue and one order.
    assert [e["type"] for e in one.events()] == ["customer.created", "customer.updated"]
    assert one.events() == two.events()


def test_an_idempotent_answer_is_remembered_across_processes(tmp_path):
    path = str(tmp_path / "shared.db")
    params = {"email": "same@example.com"}
    made = (
        Sandbox(path=path)
        .client()
        .v1.customers.create(params=params, options={"idempotency_key": "gift-1"})
    )
    again = (
        Sandbox(path=path)
        .client()
        .v1.customers.create(params=params, options={"idempotency_key": "gift-1"})
    )
    assert again.id == made.id
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM object WHERE id LIKE 'cus_%'").fetchone() == (1,)


def test_the_clock_survives_a_restart_and_never_goes_back(tmp_path):
    path = str(tmp_path / "clock.db")
    first = Sandbox(path=path, start_time=1_800_000_000)
    first.advance(days=40)
    later = Sandbox(path=path, start_time=1_700_000_000)  # a machine whose clock is behind
    assert later.now == 1_800_000_000 + 40 * 86_400


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "busy.db")
    workers = [Sandbox(path=path) for _ in range(4)]
    for worker in workers:  # each one's routes built before the threads (as a first request)
        worker.client().v1.customers.list()

    def create(index: int) -> str:
        client = workers[index % 4].client()
        return client.v1.customers.create(params={"email": f"r{index}@example.com"}).id

    with ThreadPoolExecutor(max_workers=4) as pool:
        made = set(pool.map(create, range(40)))
    listed = Sandbox(path=path).client().v1.customers.list(params={"limit": 100})
    assert {c.id for c in listed.data} == made and len(made) == 40


def test_ids_look_like_stripes_and_are_random():
    for prefix, length in [("cus", 14), ("cs_test", 58), ("pi", 24), ("evt", 24)]:
        made = random_id(prefix)
        assert re.fullmatch(rf"{prefix}_[0-9A-Za-z]{{{length}}}", made)
        assert ID_LENGTHS.get(prefix, 24) == length
    assert len({random_id("evt") for _ in range(1000)}) == 1000
    # Two fresh stand-ins (a deleted state file) never hand out the same ids again.
    ids = {Sandbox().client().v1.customers.create().id for _ in range(2)}
    assert len(ids) == 2


def test_tests_get_an_in_memory_stand_in(make_app):
    app = make_app()
    found = sandbox_pkg.of(app)
    assert found is not None and found.store.disk is None


def test_demo_mode_defaults_to_a_file_under_instance(tmp_path):
    from flask import Flask

    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(ENV_NAME="development")
    stripe_api.init_app(app)
    found = sandbox_pkg.of(app)
    assert found is not None and found.store.disk is not None
    assert found.store.disk.path == str(tmp_path / "instance" / "stripe-sandbox.db")
