"""`flask stripe import`: adopt a Stripe account's history, read through Stripe's list endpoints
and written by the webhook handlers' own apply functions (one path for "apply this object").

Order: invoice payments (which payment intent paid which invoice) and, when products are
listed, Checkout Sessions (which product a payment bought); then payment intents (one-offs
recorded, an invoice's kept for it), subscriptions (with their customer), the invoices they
paid, refunds and disputes. Every object is read once, in pages of 100. A page's writes go in
one transaction under the webhooks' rules: what is not a gift is left out (webhooks/gifts.py),
a subscription's state is dated when its page was read, so a webhook's newer event is never
moved back, and a gift is found by its Stripe ids before one is made, so a second run (or a
run after an interruption) changes nothing. Imported history sends no email.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

import stripe
from flask import current_app
from sqlalchemy import select

from membership import stripe_api
from membership.extensions import db
from membership.mail import outbox
from membership.members import services as members
from membership.models import RecurringDonation
from membership.webhooks import gifts, payments
from membership.webhooks.events import NotYetKnown, Obj, object_id, timestamp
from membership.webhooks.subscriptions import (
    find_recurring,
    member_for_customer,
    sync_subscription,
)

PAGE = 100  # Stripe's largest page
# Below Stripe's live-mode limit of 100 requests a second (https://docs.stripe.com/rate-limits).
DEFAULT_RATE = 80


@dataclass
class Tally:
    """What a run did (or, dry, would do), by kind: imported, already here, left out and why."""

    imported: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    left_out: Counter[tuple[str, str]] = field(default_factory=Counter)
    calls: int = 0
    paths: Counter[str] = field(default_factory=Counter)  # each call's path, without its query
    list_calls: int = 0  # pages asked for (a retried one too)
    listed: int = 0  # objects the lists gave
    seen: set[str] = field(default_factory=set)  # their ids: one listed twice is a re-read
    read_twice: int = 0
    # Ids of what this run imports or found here (subscriptions, invoices, payment intents),
    # and which invoice each invoice-paid payment intent belongs to: a dry run writes nothing,
    # so its later steps ask these instead of the database.
    planned: set[str] = field(default_factory=set)
    invoice_of: dict[str, str] = field(default_factory=dict)
    products_of: dict[str, list[str | None]] = field(default_factory=dict)  # by payment intent
    # The payment intents invoices paid, as listed (trimmed): their invoice records them.
    intents: dict[str, Obj] = field(default_factory=dict)
    # When the page being applied was asked for, less CLOCK_MARGIN: what it holds is Stripe's
    # state as of then or later, so a webhook's event made after it is newer and wins.
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    oldest: int | None = None  # the first invoice payment's or checkout's `created`, or --since
    # Writes planned and not yet made, by kind: a write answers why it was left out, if it was.
    pending: list[tuple[str, Callable[[], str | None]]] = field(default_factory=list)

    def lines(self) -> list[str]:
        kinds = sorted({*self.imported, *self.unchanged, *(k for k, _ in self.left_out)})
        out = []
        for kind in kinds:
            out.append(
                f"{kind}: {self.imported[kind]} imported, {self.unchanged[kind]} already here"
            )
            for (left_kind, why), count in sorted(self.left_out.items()):
                if left_kind == kind:
                    out.append(f"  left out: {count} {why}")
        per_100 = 100 * self.calls / self.listed if self.listed else 0.0
        out.append(
            f"Stripe API calls: {self.calls} for {self.listed} objects listed "
            f"({per_100:.2f} per 100); objects read twice: {self.rereads}"
        )
        return out

    @property
    def rereads(self) -> int:
        """Objects listed twice, and every call that was not a list (a retrieve reads again
        what a list gave: the import has nothing else to read)."""
        return self.read_twice + self.calls - self.list_calls


class Meter:
    """A requests response hook on the import's Stripe client: counts every call (lists and
    the handlers' own reads) and holds the pace under `rate` a second by waiting after an
    answer until the next request may go."""

    def __init__(self, rate: float, tally: Tally, sleep: Callable[[float], None] = time.sleep):
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next_at = 0.0
        self.tally = tally
        self.sleep = sleep

    def __call__(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self.tally.calls += 1
        url = urlsplit(response.request.url)
        self.tally.paths[url.path] += 1
        if "limit" in parse_qs(url.query):  # a page of a list; a retrieve has no limit
            self.tally.list_calls += 1
        now = time.monotonic()
        self.next_at = max(self.next_at + self.interval, now)
        if self.next_at > now:
            self.sleep(self.next_at - now)  # pacing under Stripe's limit, not a measurement
        return response


# Stripe's `created` is in whole seconds and its clock is not ours: an event made in the
# second a page was read, or just before, may hold a change the page does not. Such events
# win over the page (and their successors over them, by the webhooks' own ordering).
CLOCK_MARGIN = timedelta(seconds=2)
PATIENCE = 6  # waits of 1, 2, 4 ... 32 s after a 429 before the run stops


def with_backoff(work: Callable[[], Any], patience: int) -> Any:
    """A 429 the library's own retries did not get past: wait longer each time, then again."""
    for attempt in range(patience + 1):
        try:
            return work()
        except stripe.RateLimitError:
            if attempt < patience:
                time.sleep(2**attempt)  # Stripe's advice: back off, then retry
    raise ImportStopped("Stripe kept answering 429 (rate limit): run the import again later")


class ImportStopped(RuntimeError):
    """The run stopped; what it wrote stays, and a second run goes on from there."""


def listed(path: str, params: dict[str, Any], patience: int, tally: Tally) -> Iterator[Obj]:
    """Every object of a list endpoint, a page of 100 at a time."""
    after: str | None = None
    while True:
        page_params = {**params, "limit": PAGE, **({"starting_after": after} if after else {})}
        tally.read_at = datetime.now(UTC) - CLOCK_MARGIN
        page: Obj = with_backoff(partial(read_page, path, page_params), patience)
        for obj in page["data"]:
            tally.listed += 1
            if obj["id"] in tally.seen:
                tally.read_twice += 1
            tally.seen.add(obj["id"])
            yield obj
        if not page.get("has_more") or not page["data"]:
            return
        after = page["data"][-1]["id"]


def read_page(path: str, params: dict[str, Any]) -> Obj:
    data: Obj = stripe_api.client().raw_request("get", f"/v1/{path}", **params).data
    return data


def run(
    since: datetime | None = None,
    dry_run: bool = False,
    rate: float = DEFAULT_RATE,
    progress: Callable[[str, Obj, Tally], None] | None = None,
    patience: int = PATIENCE,
) -> Tally:
    tally = Tally(oldest=int(since.timestamp()) if since else None)
    created = {"created": {"gte": int(since.timestamp())}} if since else {}
    shown = progress or (lambda _kind, _obj, _tally: None)
    with outbox.silenced(), stripe_api.metered(Meter(rate, tally)):
        for paid in listed("invoice_payments", created, patience, tally):
            shown("invoice payments", paid, tally)
            earliest(tally, paid)
            intent = object_id((paid.get("payment") or {}).get("payment_intent"))
            if intent:
                tally.invoice_of[intent] = object_id(paid["invoice"]) or ""
        invoiced = set(tally.invoice_of)
        if current_app.config["GIFT_PRODUCT_IDS"]:
            # A payment intent names no product: its Checkout Session's line items do
            # (Payment Links make sessions too), read a page of 100 at a time with them.
            params = {"status": "complete", "expand": ["data.line_items"], **created}
            for made in listed("checkout/sessions", params, patience, tally):
                shown("checkouts", made, tally)
                earliest(tally, made)
                lines = (made.get("line_items") or {}).get("data") or []
                products = [object_id((line.get("price") or {}).get("product")) for line in lines]
                if made.get("payment_intent"):
                    tally.products_of[object_id(made["payment_intent"]) or ""] = products
        # Payment intents first: one-offs are recorded, an invoice's is kept for its invoice.
        # Then subscriptions, then their invoices, each object read once: no re-reads.
        steps: list[tuple[str, str, dict[str, Any], Callable[[Obj, Tally, bool], None]]] = [
            (
                "one-off payments",
                "payment_intents",
                {"expand": ["data.latest_charge.balance_transaction"]},
                lambda obj, t, dry: one_off(obj, t, dry, invoiced),
            ),
            (
                "subscriptions",
                "subscriptions",
                {"status": "all", "expand": ["data.customer"]},
                subscription,
            ),
            ("invoices", "invoices", {"status": "paid", "expand": ["data.payments"]}, invoice),
            ("refunds", "refunds", {"expand": ["data.charge.refunds"]}, refund),
            ("disputes", "disputes", {}, dispute),
        ]
        for kind, path, params, apply in steps:
            try:
                for obj in listed(path, {**params, **created}, patience, tally):
                    with_backoff(partial(apply, obj, tally, dry_run), patience)
                    if dry_run:
                        db.session.rollback()
                    elif len(tally.pending) >= PAGE:
                        write_pending(tally, patience)
                    shown(kind, obj, tally)
            except (ImportStopped, stripe.StripeError):
                write_pending(tally, patience)  # what was read before the stop is written
                raise
            write_pending(tally, patience)  # a step's writes are there for the next to find
    return tally


def earliest(tally: Tally, obj: Obj) -> None:
    if obj.get("created") and (tally.oldest is None or obj["created"] < tally.oldest):
        tally.oldest = obj["created"]


class Progress:
    """The terminal's line while a run goes: for the list being read, how many objects so far,
    how fast, how far back in time, and about how long it has left.

    Stripe's lists say nothing of their size (no total and no count on any list endpoint),
    but they come newest first: the share of the account's span of time a list has come back
    through is about the share of it read, as gifts come in over the years. The span starts at
    the first invoice payment or checkout (read first) or at --since; a list that goes back
    further than that (a one-off before the first subscription) gets no estimate until done."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.kind = ""
        self.count = 0
        self.started = 0.0
        self.newest = 0

    def line(self, kind: str, obj: Obj, tally: Tally) -> str:
        now, created = self.clock(), int(obj.get("created") or 0)
        if kind != self.kind:
            self.kind, self.count, self.started, self.newest = kind, 0, now, created
        self.count += 1
        spent = now - self.started
        text = f"{kind}: {self.count:,} read"
        if spent > 0:
            text += f", {self.count / spent:,.0f}/s"
        if created:
            text += f", back to {datetime.fromtimestamp(created, UTC):%Y-%m-%d}"
        oldest, covered = tally.oldest, self.newest - created
        if oldest is not None and covered > 0 and created >= oldest and spent > 0:
            left = spent * (created - oldest) / covered
            text += f", about {duration(left)} left in this list"
        return text


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def recurring_id(subscription_id: str) -> int | None:
    return db.session.scalar(
        select(RecurringDonation.id).where(
            RecurringDonation.stripe_subscription_id == subscription_id
        )
    )


def subscription(sub: Obj, tally: Tally, dry: bool) -> None:
    kind = "subscriptions"
    read_at = tally.read_at
    try:
        gifts.check_subscription(sub)
    except gifts.NotAGift:
        tally.left_out[(kind, "not gifts (other products on the account)")] += 1
        return
    tally.planned.add(sub["id"])
    if recurring_id(sub["id"]) is not None:
        tally.unchanged[kind] += 1
        if not dry:  # as Stripe has it now, unless a webhook applied something newer
            applied(kind, lambda: sync_subscription(sub["id"], read_at, sub=sub), tally)
        return
    tally.imported[kind] += 1
    if not dry:
        applied(kind, lambda: imported_recurring(sub, read_at), tally)


def imported_recurring(sub: Obj, read_at: datetime) -> None:
    """Its customer comes expanded: an email, or a deleted customer's stub with none (kept as
    history without personal data)."""
    customer = sub.get("customer")
    email = customer.get("email") if isinstance(customer, dict) else None
    recurring = sync_subscription(sub["id"], read_at, email, sub=sub)
    recognised(recurring, sub.get("metadata") or {})
    members.recompute(recurring.member)


def recognised(row: Any, metadata: Obj) -> None:
    """Attribution "imported", with another tool's campaign and UTM keys where they are."""
    row.utm_source = row.utm_source or metadata.get("utm_source") or "imported"
    row.utm_medium = row.utm_medium or metadata.get("utm_medium")
    row.utm_campaign = row.utm_campaign or metadata.get("utm_campaign") or metadata.get("campaign")


def invoice(inv: Obj, tally: Tally, dry: bool) -> None:
    kind = "invoices"
    parent = (inv.get("parent") or {}).get("subscription_details") or {}
    subscription_id = object_id(parent.get("subscription"))
    known = subscription_id in tally.planned or recurring_id(subscription_id or "") is not None
    if subscription_id is None or not known:
        tally.left_out[(kind, "not a recurring gift's")] += 1
        return
    tally.planned.add(inv["id"])
    if payments.find_donation(invoice_id=inv["id"]) is not None:
        tally.unchanged[kind] += 1
        return
    tally.imported[kind] += 1
    if not dry:
        applied(kind, lambda: imported_invoice(inv, subscription_id, tally), tally)


def imported_invoice(inv: Obj, subscription_id: str, tally: Tally) -> None:
    """Recorded by the webhooks' function, with the invoice as listed, its payment intent as
    listed before, and the recurring gift synced just now: nothing read again."""
    recurring = find_recurring(subscription_id)
    paid_at = (inv.get("status_transitions") or {}).get("paid_at") or inv["created"]
    payments.record_invoice(
        inv["id"], timestamp(paid_at), listed=inv, intents=tally.intents, recurring=recurring
    )


def one_off(intent: Obj, tally: Tally, dry: bool, invoiced: set[str]) -> None:
    kind = "one-off payments"
    if intent["id"] in invoiced:
        tally.intents[intent["id"]] = trimmed(intent)
        return
    if intent["status"] != "succeeded":
        tally.left_out[(kind, f"not paid ({intent['status']})")] += 1
        return
    if not gifts.counts(intent.get("metadata"), tally.products_of.get(intent["id"], [])):
        tally.left_out[(kind, "not gifts (other products on the account)")] += 1
        return
    tally.planned.add(intent["id"])
    if payments.find_donation(intent["id"]) is not None:
        tally.unchanged[kind] += 1
        return
    tally.imported[kind] += 1
    if not dry:
        applied(kind, lambda: imported_one_off(intent), tally)


def trimmed(intent: Obj) -> Obj:
    """What recording an invoice's payment reads of its intent (held for the whole run)."""
    charge = intent.get("latest_charge")
    if isinstance(charge, dict):
        txn = charge.get("balance_transaction")
        charge = {
            "id": charge["id"],
            "created": charge.get("created"),
            "balance_transaction": (
                {k: txn[k] for k in ("fee", "net", "currency")} if isinstance(txn, dict) else txn
            ),
        }
    keep = ("id", "amount", "amount_received", "currency", "metadata", "status")
    return {**{k: intent.get(k) for k in keep}, "latest_charge": charge}


def imported_one_off(intent: Obj) -> None:
    charge = intent.get("latest_charge") if isinstance(intent.get("latest_charge"), dict) else {}
    email = ((charge or {}).get("billing_details") or {}).get("email") or intent.get(
        "receipt_email"
    )
    member = member_for_customer(intent.get("customer"), email)
    paid_at = timestamp((charge or {}).get("created") or intent["created"])
    donation = payments.record_payment(intent, member, paid_at)
    recognised(donation, intent.get("metadata") or {})
    members.recompute(member)


def refund(obj: Obj, tally: Tally, dry: bool) -> None:
    charge = obj.get("charge")
    charge_id = object_id(charge)
    listed_charge = charge if isinstance(charge, dict) else None
    if charge_id is not None:
        reverse("refunds", obj, tally, dry, lambda: payments.apply_refund(charge_id, listed_charge))


def dispute(obj: Obj, tally: Tally, dry: bool) -> None:
    reverse("disputes", obj, tally, dry, lambda: payments.apply_dispute(obj["id"], obj))


def reverse(kind: str, obj: Obj, tally: Tally, dry: bool, apply: Callable[[], Any]) -> None:
    """A refund or dispute of a gift imported or already here (the handler finds the gift)."""
    intent = object_id(obj.get("payment_intent")) or ""
    ours = intent in tally.planned or tally.invoice_of.get(intent) in tally.planned
    if not ours and payments.find_donation(intent or None) is None:
        tally.left_out[(kind, "of payments that are not gifts")] += 1
        return
    tally.imported[kind] += 1
    if not dry:
        applied(kind, partial(reversal, apply), tally)


def reversal(apply: Callable[[], Any]) -> str | None:
    try:
        apply()
    except (NotYetKnown, gifts.NotAGift):
        return "of payments that are not gifts"
    return None


def applied(kind: str, write: Callable[[], Any], tally: Tally) -> None:
    """A write for the batch: a page's writes go in one transaction (write_pending)."""
    tally.pending.append((kind, write))


def write_pending(tally: Tally, patience: int) -> None:
    """The planned writes, up to a page of them, in one transaction: one commit (and one
    refresh of the members' giving) for a hundred objects. If any of them fails, the batch is
    rolled back and written again an object a transaction, so the one that fails stops the
    run with every object before it kept, and a second run starts after them."""
    writes, tally.pending = tally.pending, []
    if not writes:
        return
    try:
        outcomes = [write() for _kind, write in writes]
        db.session.commit()
    except Exception:
        db.session.rollback()
        outcomes = [with_backoff(partial(alone, write), patience) for _kind, write in writes]
    for (kind, _write), reason in zip(writes, outcomes, strict=True):
        if isinstance(reason, str):
            tally.imported[kind] -= 1
            tally.left_out[(kind, reason)] += 1


def alone(write: Callable[[], Any]) -> Any:
    """One object, one transaction."""
    try:
        outcome = write()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return outcome
