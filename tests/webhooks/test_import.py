"""`flask stripe import`: an account's history, made before this service knew of it, adopted
through Stripe's lists and the webhook handlers' own apply functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from membership import stripe_api
from membership.models import (
    Donation,
    DonationStatus,
    Member,
    OutboxEmail,
    RecurringDonation,
    SubscriptionStatus,
)
from tests.webhooks.conftest import rows, snapshot

pytestmark = pytest.mark.usefixtures("app_context")


def foreign(
    mode: str,
    name: str,
    amount: int,
    interval: str = "month",
    trial_days: int = 0,
    metadata: dict[str, str] | None = None,
) -> Any:
    """A Checkout Session another tool opened: no metadata of ours (`metadata`: the tool's
    own, on the subscription or the payment)."""
    price: dict[str, Any] = {
        "currency": "usd",
        "unit_amount": amount,
        "product_data": {"name": name},
    }
    if mode == "subscription":
        price["recurring"] = {"interval": interval}
    params: dict[str, Any] = {
        "mode": mode,
        "success_url": "https://old-tool.example/thanks",
        "line_items": [{"quantity": 1, "price_data": price}],
    }
    if trial_days:
        params["subscription_data"] = {"trial_period_days": trial_days}
    if metadata and mode == "subscription":
        params["subscription_data"] = {**params.get("subscription_data", {}), "metadata": metadata}
    elif metadata:
        params["payment_intent_data"] = {"metadata": metadata}
    return stripe_api.client().v1.checkout.sessions.create(params=params)


def history(sandbox) -> dict[str, Any]:
    """Years of another tool's gifts, none of which reached this service."""
    sandbox.webhooks.hold()
    monthly = sandbox.pay(
        foreign("subscription", "Monthly support", 1000).id, email="a@example.org"
    )
    annual = sandbox.pay(
        foreign("subscription", "Annual support", 6000, "year").id, email="b@example.org"
    )
    stripe_api.client().v1.subscriptions.update(
        annual["subscription"], params={"cancel_at_period_end": True}
    )
    once = sandbox.pay(foreign("payment", "One-off gift", 2500).id, email="c@example.org")
    intent = stripe_api.retrieve_payment_intent(once["payment_intent"])
    stripe_api.client().v1.refunds.create(params={"charge": intent["latest_charge"]["id"]})
    # One person, two customers (two checkouts), one email.
    sandbox.pay(foreign("subscription", "Monthly support", 500).id, email="d@example.org")
    sandbox.pay(foreign("payment", "One-off gift", 1500).id, email="D@example.org")
    sandbox.advance(days=31)  # the monthly gifts renew
    sandbox.webhooks.drop()
    return {"monthly": monthly, "annual": annual}


def test_a_dedicated_accounts_history_is_imported_once_and_tells_no_one(app, sandbox, runner):
    app.config["STRIPE_ACCOUNT"] = "dedicated"
    made = history(sandbox)
    result = runner.invoke(args=["stripe", "import"])
    assert result.exit_code == 0, result.output
    print(result.output)
    assert "subscriptions: 3 imported" in result.output
    assert "Stripe API calls:" in result.output
    assert "\r" not in result.output and " read, " not in result.output  # no terminal: quiet

    by_email = {m.email: m for m in rows(Member)}
    assert sorted(by_email) == ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    recurring = {r.stripe_subscription_id: r for r in rows(RecurringDonation)}
    annual = recurring[made["annual"]["subscription"]]
    assert annual.status == SubscriptionStatus.ACTIVE and annual.cancel_at_period_end
    monthly = recurring[made["monthly"]["subscription"]]
    gifts = sorted((d.member.email, d.amount, d.status) for d in rows(Donation))
    assert gifts == [
        ("a@example.org", 1000, DonationStatus.SUCCEEDED),
        ("a@example.org", 1000, DonationStatus.SUCCEEDED),
        ("b@example.org", 6000, DonationStatus.SUCCEEDED),
        ("c@example.org", 2500, DonationStatus.REFUNDED),
        ("d@example.org", 500, DonationStatus.SUCCEEDED),
        ("d@example.org", 500, DonationStatus.SUCCEEDED),
        ("d@example.org", 1500, DonationStatus.SUCCEEDED),
    ]
    assert all(d.fee is not None for d in rows(Donation))
    assert monthly.utm_source == "imported"
    assert rows(OutboxEmail) == []  # years of receipts must not go out now
    assert by_email["a@example.org"].status == "active"

    before = snapshot()
    again = runner.invoke(args=["stripe", "import"])
    assert again.exit_code == 0, again.output
    assert "subscriptions: 0 imported, 3 already here" in again.output
    assert snapshot() == before


def test_on_a_shared_account_only_gifts_come_in_and_a_dry_run_writes_nothing(
    app, sandbox, checkout, runner
):
    session, _ = checkout("month", 1000, "USD")  # one of ours, its webhooks lost
    sandbox.webhooks.hold()
    sandbox.pay(session.id, email="ours@example.org")
    sandbox.webhooks.drop()
    history(sandbox)  # another tool's, on the same account: not gifts by default

    dry = runner.invoke(args=["stripe", "import", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was written." in dry.output
    print(dry.output)
    assert "subscriptions: 1 imported" in dry.output
    assert "left out: 3 not gifts (other products on the account)" in dry.output
    assert rows(Member) == [] and rows(Donation) == []

    real = runner.invoke(args=["stripe", "import"])
    assert real.exit_code == 0, real.output
    assert [m.email for m in rows(Member)] == ["ours@example.org"]
    assert [d.amount for d in rows(Donation)] == [1000, 1000]


def test_since_takes_only_what_was_made_from_that_day(app, sandbox, runner):
    app.config["STRIPE_ACCOUNT"] = "dedicated"
    history(sandbox)
    result = runner.invoke(args=["stripe", "import", "--since", "2100-01-01"])
    assert result.exit_code == 0, result.output
    assert rows(Member) == [] and rows(Donation) == []


def test_a_previous_tools_gifts_come_in_by_their_product_and_its_merchandise_stays_out(
    app, sandbox, runner
):
    """The demo's foreign history (flask demo foreign-history): the previous tool's donation
    product listed in GIFT_PRODUCT_IDS, its merchandise not."""
    from membership.sandbox import foreign

    made = foreign.make(sandbox, donors=6)
    app.config["GIFT_PRODUCT_IDS"] = frozenset(made["donation_product"])
    result = runner.invoke(args=["stripe", "import"])
    assert result.exit_code == 0, result.output
    recurring = {r.stripe_subscription_id for r in rows(RecurringDonation)}
    assert recurring == set(made["subscriptions"])
    one_offs = {d.stripe_payment_intent_id for d in rows(Donation) if d.kind == "one_off"}
    assert one_offs == set(made["one_offs"])
    assert "shopper@example.org" not in {m.email for m in rows(Member)}
    # Two customers with one email (in two cases) are one member.
    assert [m.email for m in rows(Member)].count("previous.donor0@example.org") == 1
    statuses = sorted(d.status for d in rows(Donation) if d.kind == "one_off")
    assert DonationStatus.REFUNDED in statuses and DonationStatus.DISPUTE_LOST in statuses


def test_an_interrupted_import_goes_on_where_it_stopped(make_app, runner):
    """Stripe's rate limit stops the run part-way (the library's retries and the import's own
    patience used up); what was written stays, and a second run finishes without doubling."""
    from membership import importer
    from membership.extensions import db
    from membership.sandbox import foreign
    from membership.sandbox.ratelimit import RateLimit

    app = make_app(STRIPE_MAX_NETWORK_RETRIES=0, STRIPE_ACCOUNT="dedicated")
    sandbox = app.extensions["stripe_sandbox"]
    with app.app_context():
        foreign.make(sandbox, donors=6)

    class Reads:  # time stands still once the 3rd read has been let through
        def __init__(self) -> None:
            self.reads = 0

        def __call__(self) -> float:
            self.reads += 1
            return 0.0 if self.reads > 3 else float(self.reads)

    sandbox.rate_limit = RateLimit(1, clock=Reads())
    with app.app_context(), pytest.raises(importer.ImportStopped):
        importer.run(patience=0)
    with app.app_context():
        partial = len(rows(Donation))
        db.session.remove()
    sandbox.rate_limit = None
    with app.app_context():
        importer.run()
        after = sorted((d.stripe_payment_intent_id, d.amount) for d in rows(Donation))
        assert len(after) > partial and len(after) == len(set(after))
        importer.run()
        assert sorted((d.stripe_payment_intent_id, d.amount) for d in rows(Donation)) == after


def test_the_demo_makes_a_previous_tools_history_to_try_the_import_on(app, runner):
    made = runner.invoke(args=["demo", "foreign-history", "--donors", "3"])
    assert made.exit_code == 0, made.output
    assert "no webhook was sent" in made.output and rows(Member) == []
    product = made.output.split("GIFT_PRODUCT_IDS=")[1].split()[0]
    app.config["GIFT_PRODUCT_IDS"] = frozenset({product})
    dry = runner.invoke(args=["stripe", "import", "--dry-run"])
    assert dry.exit_code == 0 and "subscriptions: 2 imported" in dry.output, dry.output
    assert "left out: 1 not gifts (other products on the account)" in dry.output


def test_edges_past_due_a_deleted_customer_and_a_zero_decimal_currency(app, sandbox, runner):
    """A renewal that failed leaves the gift past due; a customer deleted at Stripe stays as
    history without personal data (its gift canceled with it); yen are whole units."""
    from tests.webhooks.conftest import DECLINING_CARD

    app.config["STRIPE_ACCOUNT"] = "dedicated"
    sandbox.webhooks.hold()
    late = sandbox.pay(foreign("subscription", "Monthly", 1000).id, email="late@example.org")
    sandbox.set_card(late["customer"], DECLINING_CARD)
    gone = sandbox.pay(foreign("subscription", "Monthly", 700).id, email="gone@example.org")
    yen = foreign("payment", "Gift", 3000)
    params = {"mode": "payment", "success_url": "https://old-tool.example/thanks"}
    price = {"currency": "jpy", "unit_amount": 3000, "product_data": {"name": "Gift"}}
    yen = stripe_api.client().v1.checkout.sessions.create(
        params=params | {"line_items": [{"quantity": 1, "price_data": price}]}
    )
    sandbox.pay(yen.id, email="yen@example.org")
    sandbox.advance(days=31)  # late's renewal fails
    stripe_api.client().v1.customers.delete(gone["customer"])
    sandbox.webhooks.drop()

    assert runner.invoke(args=["stripe", "import"]).exit_code == 0
    recurring = {r.stripe_subscription_id: r for r in rows(RecurringDonation)}
    assert recurring[late["subscription"]].status == SubscriptionStatus.PAST_DUE
    assert recurring[late["subscription"]].member.status == "past_due"
    deleted = recurring[gone["subscription"]]
    assert deleted.status == SubscriptionStatus.CANCELED and deleted.member.email is None
    assert [(d.amount, d.currency) for d in rows(Donation) if d.currency == "JPY"] == [
        (3000, "JPY")
    ]


def expected_people(store: Any, now: datetime) -> dict[str, tuple[str, str | None]]:
    """Each person's member status and tier, straight from the stand-in's objects: their
    customers by email (one person, however many customers), subscriptions and one-off charges,
    under the rules the README states (a live recurring gift or a one-off within
    ONE_OFF_ACTIVE_MONTHS is active; failing payments past due; a paused trial lapsed; ended
    gifts cancelled; an old one-off lapsed; tiers by the year's giving)."""
    from flask import current_app

    from membership.members.services import add_months, tier_for, tier_units

    email_of = {c["id"]: (c.get("email") or "").lower() for c in store.all("customer")}
    invoiced = {p["payment"]["payment_intent"] for p in store.all("invoice_payment")}
    lost = {d["charge"] for d in store.all("dispute") if d["status"] == "lost"}
    subs: dict[str, list[Any]] = {}
    for sub in store.all("subscription"):
        subs.setdefault(email_of[sub["customer"]], []).append(sub)
    one_offs: dict[str, list[Any]] = {}
    givers = set(subs)  # a gift refunded or lost in a dispute still makes its giver a member
    for charge in store.all("charge"):
        if charge["payment_intent"] in invoiced or not charge["paid"]:
            continue
        email = (charge["billing_details"].get("email") or "").lower()
        givers.add(email)
        if charge["amount_refunded"] < charge["amount"] and charge["id"] not in lost:
            one_offs.setdefault(email, []).append(charge)
    people = {}
    for email in givers:
        statuses = {s["status"] for s in subs.get(email, [])}
        paid = [datetime.fromtimestamp(c["created"], UTC) for c in one_offs.get(email, [])]
        months = current_app.config["ONE_OFF_ACTIVE_MONTHS"]
        until = add_months(max(paid), months) if paid else None
        if statuses & {"active", "trialing"} or (until and until > now):
            status = "active"
        elif statuses & {"past_due", "unpaid"}:
            status = "past_due"
        elif "paused" in statuses:
            status = "lapsed"
        elif statuses & {"canceled", "incomplete_expired"}:
            status = "canceled"
        else:
            status = "lapsed" if until else "none"
        year = 0.0
        for sub in subs.get(email, []):
            if sub["status"] in ("active", "trialing", "past_due", "unpaid"):
                price = sub["items"]["data"][0]["price"]
                times = 12 if price["recurring"]["interval"] == "month" else 1
                year += tier_units(price["unit_amount"] * times, price["currency"])
        for charge in one_offs.get(email, []):
            if datetime.fromtimestamp(charge["created"], UTC) >= now - timedelta(days=365):
                net = charge["amount"] - charge["amount_refunded"]
                year += tier_units(net, charge["currency"])
        people[email] = (status, tier_for(round(year)))
    return people


def test_after_the_import_the_overview_equals_what_the_stand_in_holds(app, sandbox, runner):
    """Gross per month and currency, live recurring gifts, MRR and ARR, the people giving
    monthly or yearly, churn, and members by status and tier: computed here straight from
    the stand-in's objects."""
    from membership.dashboard.metrics import gift_totals, growth
    from membership.dashboard.metrics.periods import Period
    from membership.sandbox import foreign
    from membership.sandbox.store import DAY

    app.config["STRIPE_ACCOUNT"] = "dedicated"
    began = sandbox.store.now
    made = foreign.make(sandbox, donors=9)
    sandbox.webhooks.hold()
    stripe_api.client().v1.subscriptions.cancel(made["subscriptions"][2])  # churn, a month in
    sandbox.advance(days=45)  # and a second renewal for the monthly gifts
    sandbox.webhooks.drop()
    assert runner.invoke(args=["stripe", "import"]).exit_code == 0
    store = sandbox.store
    paid = [c for c in store.all("charge") if c["paid"]]
    expected_money: dict[str, tuple[int, int]] = {}
    expected_months: dict[tuple[str, str], int] = {}
    for charge in paid:
        currency = charge["currency"].upper()
        count, gross = expected_money.get(currency, (0, 0))
        expected_money[currency] = (count + 1, gross + charge["amount"])
        month = f"{datetime.fromtimestamp(charge['created'], UTC):%Y-%m}"
        expected_months[month, currency] = (
            expected_months.get((month, currency), 0) + charge["amount"]
        )
    everything = Period(date(2000, 1, 1), date(2099, 12, 31))
    money = {t.currency: (t.count, t.gross.amount) for t in gift_totals.money_raised(everything)}
    assert money == expected_money
    months = {(m.month, m.currency): m.gross.amount for m in gift_totals.monthly_gross(everything)}
    assert months == expected_months and len(months) >= 2

    live = [s for s in store.all("subscription") if s["status"] in ("active", "trialing")]
    expected_mrr: dict[str, list[int]] = {}
    for sub in live:
        price = sub["items"]["data"][0]["price"]
        sums = expected_mrr.setdefault(price["currency"].upper(), [0, 0])
        sums[0 if price["recurring"]["interval"] == "month" else 1] += price["unit_amount"]
    revenue = {r.currency: (r.mrr.amount, r.arr.amount) for r in growth.recurring_revenue()}
    assert revenue == {
        currency: (month + (year * 2 + 12) // 24, month * 12 + year)
        for currency, (month, year) in expected_mrr.items()
    }
    emails = {store.objects[s["customer"]]["email"].lower() for s in live}
    assert growth.active_recurring_members() == len(emails)

    day = lambda moment: datetime.fromtimestamp(moment, UTC).date()  # noqa: E731
    period = Period(day(began + 10 * DAY), day(store.now))
    subs = store.all("subscription")
    running = [
        s
        for s in subs
        if s["start_date"] < period.start.timestamp()
        and (s["canceled_at"] is None or s["canceled_at"] >= period.start.timestamp())
    ]
    ended = [
        s
        for s in subs
        if s["canceled_at"]
        and period.start.timestamp() <= s["canceled_at"] < period.end.timestamp()
    ]
    assert growth.churn(period) == growth.Churn(len(running), len(ended))
    assert len(ended) == 1

    people = expected_people(store, datetime.now(UTC))
    members = {m.email: (m.status, m.tier) for m in rows(Member)}
    assert members == people
    assert {status for status, _ in people.values()} >= {"active", "canceled"}
    assert len({tier for _, tier in people.values()}) >= 2


def test_trialing_past_due_unpaid_and_paused_gifts_take_their_members_status(app, sandbox, runner):
    """A trial is a live gift (active); failing payments (past_due, unpaid) put the member at
    risk (past due); a trial that ended without a way to pay (paused) leaves them lapsed."""
    app.config["STRIPE_ACCOUNT"] = "dedicated"
    sandbox.webhooks.hold()
    made = {}
    for status in ("trialing", "unpaid", "paused", "active"):
        trial = 14 if status in ("trialing", "paused") else 0
        session = foreign("subscription", "Monthly", 800, trial_days=trial)
        made[status] = sandbox.pay(session.id, email=f"{status}@example.org")["subscription"]
    # The stand-in does not model how a subscription comes to be unpaid (the "mark as
    # unpaid" dunning setting) or paused (a trial's end without a payment method): the
    # previous tool's account holds them so, as Stripe would show them.
    with sandbox.store.lock:
        for status in ("unpaid", "paused"):
            sandbox.store.objects[made[status]]["status"] = status
    sandbox.webhooks.drop()

    result = runner.invoke(args=["stripe", "import"])
    assert result.exit_code == 0, result.output
    recurring = {r.stripe_subscription_id: r for r in rows(RecurringDonation)}
    assert {s: recurring[sub].status.value for s, sub in made.items()} == {
        "trialing": "trialing",
        "unpaid": "unpaid",
        "paused": "paused",
        "active": "active",
    }
    members = {m.email: m.status.value for m in rows(Member)}
    assert members == {
        "trialing@example.org": "active",
        "unpaid@example.org": "past_due",
        "paused@example.org": "lapsed",
        "active@example.org": "active",
    }
    # A trial's invoice for nothing is no gift; the paying ones' first invoices are.
    assert sorted(d.member.email for d in rows(Donation)) == [
        "active@example.org",
        "unpaid@example.org",
    ]


def test_webhooks_arriving_during_the_import_neither_double_a_gift_nor_undo_a_change(app, sandbox):
    """The history's own events arrive while the import is half-way (each gift recorded by
    both, once), and a cancellation made after the import read the subscriptions wins over
    the earlier state the import then writes."""
    import time

    from membership import importer

    app.config["STRIPE_ACCOUNT"] = "dedicated"
    sandbox.webhooks.hold()
    staying = sandbox.pay(foreign("subscription", "Monthly", 1000).id, email="a@example.org")
    leaving = sandbox.pay(foreign("subscription", "Monthly", 700).id, email="b@example.org")
    sandbox.pay(foreign("payment", "One-off gift", 2500).id, email="c@example.org")
    happened: list[str] = []

    def meanwhile(kind: str, _obj: Any, _tally: Any) -> None:
        if kind == "one-off payments" and "delivered" not in happened:
            happened.append("delivered")
            sandbox.webhooks.release()  # every event of the history, now
        if kind == "subscriptions" and "cancelled" not in happened:
            happened.append("cancelled")
            # After the page was read, by Stripe's clock (whole seconds), as a donor would.
            sandbox.advance_to(max(sandbox.store.now, int(time.time())))
            stripe_api.client().v1.subscriptions.cancel(leaving["subscription"])

    importer.run(progress=meanwhile)
    assert happened == ["delivered", "cancelled"]
    gifts = rows(Donation)
    charges = [c for c in sandbox.store.all("charge") if c["paid"]]
    assert len(gifts) == len(charges) == 3
    assert len({d.stripe_payment_intent_id for d in gifts}) == 3
    recurring = {r.stripe_subscription_id: r for r in rows(RecurringDonation)}
    assert recurring[leaving["subscription"]].status == SubscriptionStatus.CANCELED
    assert recurring[staying["subscription"]].status == SubscriptionStatus.ACTIVE
    members = {m.email: m.status.value for m in rows(Member)}
    assert members == {
        "a@example.org": "active",
        "b@example.org": "canceled",
        "c@example.org": "active",
    }


def test_the_import_reads_lists_only_a_page_of_a_hundred_at_a_time(app, sandbox):
    """No object is read twice (nor alone): every call is a page of a list endpoint."""
    from membership import importer
    from membership.sandbox import foreign

    app.config["STRIPE_ACCOUNT"] = "dedicated"
    foreign.make(sandbox, donors=150)  # more than a page of several kinds
    tally = importer.run()
    lists = {
        "/v1/invoice_payments",
        "/v1/payment_intents",
        "/v1/subscriptions",
        "/v1/invoices",
        "/v1/refunds",
        "/v1/disputes",
    }
    assert set(tally.paths) == lists
    objects = len(rows(Donation)) + len(rows(RecurringDonation))
    assert tally.paths["/v1/payment_intents"] == 3  # 250-odd intents: three pages
    assert tally.calls <= 2 + objects / 100 * 4


def test_the_previous_tools_campaign_and_utm_keys_are_kept(app, sandbox, runner):
    app.config["STRIPE_ACCOUNT"] = "dedicated"
    sandbox.webhooks.hold()
    tagged = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"}
    sub = sandbox.pay(
        foreign("subscription", "Monthly", 900, metadata=tagged).id, email="s@example.org"
    )
    once = sandbox.pay(
        foreign("payment", "Gift", 3000, metadata={"campaign": "year-end"}).id,
        email="o@example.org",
    )
    sandbox.webhooks.drop()
    assert runner.invoke(args=["stripe", "import"]).exit_code == 0
    [recurring] = rows(RecurringDonation)
    assert recurring.stripe_subscription_id == sub["subscription"]
    assert (recurring.utm_source, recurring.utm_medium, recurring.utm_campaign) == (
        "newsletter",
        "email",
        "spring",
    )
    gifts = {d.stripe_payment_intent_id: d for d in rows(Donation)}
    one_off = gifts[once["payment_intent"]]
    assert (one_off.utm_source, one_off.utm_campaign) == ("imported", "year-end")


def test_progress_says_how_far_back_a_list_has_come_and_about_how_long_it_has_left():
    """Lists carry no totals: the estimate is the share of the account's span of time read."""
    from membership import importer

    ticks = iter([100.0, 110.0, 120.0])
    progress = importer.Progress(clock=lambda: next(ticks))
    tally = importer.Tally(oldest=1_700_000_000)
    newest = 1_700_000_000 + 400 * 86_400
    first = progress.line("subscriptions", {"created": newest}, tally)
    assert first.startswith("subscriptions: 1 read") and "left" not in first
    progress.line("subscriptions", {"created": newest - 100 * 86_400}, tally)
    # 20 s for 200 of 400 days: about 20 s more.
    third = progress.line("subscriptions", {"created": newest - 200 * 86_400}, tally)
    assert third == ("subscriptions: 3 read, 0/s, back to 2024-06-01, about 20 s left in this list")


def test_a_stripe_that_cannot_be_reached_stops_the_run_with_a_clear_message(app, runner):
    """A network error is no traceback: it says what happened and that a rerun goes on."""
    app.extensions.pop("stripe_sandbox")
    app.config.update(
        STRIPE_SECRET_KEY="sk_test_unreachable_not_a_real_key",
        STRIPE_API_BASE="http://127.0.0.1:1",
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    result = runner.invoke(args=["stripe", "import"])
    assert result.exit_code == 1
    assert "Stripe stopped the import" in result.output and "run the import again" in result.output
    assert "Traceback" not in result.output and rows(Donation) == []
