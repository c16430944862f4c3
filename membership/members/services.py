"""Membership rules: who a giver is (by Stripe customer, then email), their status and tier."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import (
    Select,
    String,
    inspect,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from membership.extensions import conflict_insert, db
from membership.members import erasure
from membership.models import (
    Donation,
    DonationKind,
    DonationStatus,
    Interval,
    Member,
    MemberCustomer,
    MemberStatus,
    RecurringDonation,
    SubscriptionStatus,
)

log = logging.getLogger("membership.members")
Row = TypeVar("Row")

# Stripe statuses in which a recurring gift still makes its giver a member.
LIVE = {SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING}
AT_RISK = {SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID}
ENDED = {SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED}
# A gift counts towards status and tier unless it was given back.
REVERSED = {DonationStatus.REFUNDED, DonationStatus.DISPUTE_LOST, DonationStatus.FAILED}


def normalise_email(email: str | None) -> str | None:
    """The form we store and match on: trimmed and lower-cased; None for a blank."""
    cleaned = (email or "").strip().lower()
    return cleaned or None


def find_or_create_member(customer_id: str | None, email: str | None) -> Member:
    """The member for a Stripe customer, else for the email; created if neither is known."""
    member = find_member(customer_id, email)
    if member is None:
        return add_member(customer_id, email)
    link_customer(member, customer_id)
    return member


def add_member(customer_id: str | None, email: str | None, deleted: bool = False) -> Member:
    """A new member for this customer and email, or the one a racing event inserted first;
    `deleted`: the customer was deleted at Stripe, which keeps no email for it: a member
    without one, so their gifts stay in the figures as history without personal data.

    An erased donor's customer or email is never made a member again: their news is counted
    on the erased member's pseudonymous row (members/erasure.py).
    """
    erased = erasure.erased_member(customer_id, email)
    if erased is not None:
        return erased
    email = normalise_email(email)
    if email is None and not (deleted and customer_id):
        raise LookupError("cannot create a member without an email address")
    member = insert_unique(Member(email=email, stripe_customer_id=customer_id))
    if member is None:
        member = find_member(customer_id, email)
        if member is None:  # the conflicting row is neither: only a public_id clash could do it
            raise LookupError("member insert conflicted with no matching member")
    link_customer(member, customer_id)
    return member


def link_customer(member: Member, customer_id: str | None) -> None:
    """Record a Stripe customer seen for the member (never for an erased one: their ids are
    kept only as fingerprints)."""
    if not customer_id or member.erased_at is not None:
        return
    if member.stripe_customer_id is None:
        member.stripe_customer_id = customer_id
    if member.id is None:
        db.session.flush()
    table = MemberCustomer.__table__
    now = datetime.now(UTC)
    insert = conflict_insert(table, db.session.get_bind().dialect.name).values(
        stripe_customer_id=customer_id, member_id=member.id, created_at=now, updated_at=now
    )
    db.session.execute(insert.on_conflict_do_nothing())


def insert_unique(row: Row) -> Row | None:
    """INSERT a new row in one statement unless one of its unique keys is taken; None if so.

    `row` is a transient object with its columns set (ids, not relationships); it comes back
    persistent, its defaults filled in, without the ORM's unit of work or a read-back. On
    PostgreSQL an insert racing one of the same key waits for that transaction and then does
    nothing, so the caller looks the winner up: no SAVEPOINT, no IntegrityError.
    Not for Donation: its writes go through the ORM flush, where listeners see them.
    """
    mapper = inspect(type(row))
    state = inspect(row)
    for prop in mapper.column_attrs:
        if prop.key not in state.dict:  # unset: its default, else NULL, on the row too
            setattr(row, prop.key, column_default(prop.columns[0]))
    values = {
        prop.columns[0].key: state.dict[prop.key]
        for prop in mapper.column_attrs
        if not prop.columns[0].primary_key
    }
    table = mapper.local_table
    insert = conflict_insert(table, db.session.get_bind().dialect.name).values(values)
    statement = insert.on_conflict_do_nothing().returning(*table.primary_key.columns)
    row_id = db.session.execute(statement).scalar()
    if row_id is None:
        return None
    setattr(row, mapper.primary_key[0].key, row_id)
    make_transient_to_detached(row)  # as if loaded: nothing expired, nothing to flush
    db.session.add(row)
    return row


def column_default(column: Any) -> Any:
    """The value an INSERT without this column would store (Python-side defaults only)."""
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def add_unique(row: Row, find: Callable[[], Row | None]) -> Row:
    """Insert a row keyed by a unique Stripe id or email; if a racing insert won, use its row.

    For rows that must go through the ORM flush; insert_unique is one round trip, not three.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        # SQLite serialises writers, so there is no race to lose; and pysqlite's SAVEPOINT,
        # when it opens the transaction, commits everything on release.
        db.session.add(row)
        db.session.flush()
        return row
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing
    return row


def find_member(customer_id: str | None, email: str | None) -> Member | None:
    """The member with this Stripe customer id, else the one with this email (one query)."""
    email = normalise_email(email)
    if not (customer_id or email):
        return None
    # A member holds the customers in member_customer (every one seen for them), and the first
    # of them in its own column too; the customer decides before the email. Each way in is its
    # own indexed lookup in a UNION ALL: written as one OR across them, PostgreSQL scans every
    # member (44 ms of database time per event at 200,000 members, bench/RESULTS.md).
    ways: list[Select[int, int]] = []
    if customer_id:
        ways.append(select(Member.id, literal(0)).where(Member.stripe_customer_id == customer_id))
        ways.append(
            select(MemberCustomer.member_id, literal(0)).where(
                MemberCustomer.stripe_customer_id == customer_id
            )
        )
    if email:
        ways.append(select(Member.id, literal(1)).where(Member.email == email))
    found = union_all(*ways).subquery()
    member_id, rank = found.c
    query = select(Member).join(found, Member.id == member_id).order_by(rank, Member.id)
    return db.session.scalars(query.limit(1)).first()


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Gifts:
    """What status and tier derive from: every recurring gift, and the one-off gifts that count."""

    recurring: list[tuple[SubscriptionStatus, int, str, Interval]]  # status, amount, currency, ..
    one_offs: list[tuple[datetime, int, str]]  # paid_at, amount net of refunds, currency


def gifts_of(member_id: int) -> Gifts:
    """A member's gifts in one query: a UNION of recurring gifts and counted one-off gifts."""
    gifts = Gifts([], [])
    # (status, amount, currency, interval, paid_at) rows: a NULL interval marks a counted
    # one-off gift, a NULL paid_at a recurring gift.
    one_offs = select(
        type_coerce(Donation.status, String),
        Donation.amount - Donation.amount_refunded,
        Donation.currency,
        null(),
        Donation.paid_at,
    ).where(
        Donation.member_id == member_id,
        Donation.kind == DonationKind.ONE_OFF,
        Donation.status.not_in(sorted(REVERSED)),
    )
    recurring = select(
        type_coerce(RecurringDonation.status, String),
        RecurringDonation.amount,
        RecurringDonation.currency,
        type_coerce(RecurringDonation.interval, String),
        null(),
    ).where(RecurringDonation.member_id == member_id)
    rows: Any = db.session.execute(union_all(one_offs, recurring))
    for status, amount, currency, interval, paid_at in rows:
        if interval is None:
            gifts.one_offs.append((paid_at, amount, currency))
        else:
            gifts.recurring.append(
                (SubscriptionStatus(status), amount, currency, Interval(interval))
            )
    return gifts


def annual_amount(gifts: Gifts, now: datetime) -> int:
    """Live recurring gifts annualised plus last year's one-off gifts, net of refunds, in the
    tiers' units (tier_units: no live FX, a configured rate per currency)."""
    total = 0.0
    for status, amount, currency, interval in gifts.recurring:
        if status in LIVE | AT_RISK:
            total += tier_units(amount * (12 if interval == Interval.MONTH else 1), currency)
    year_ago = now - timedelta(days=365)
    total += sum(
        tier_units(net, cur) for paid_at, net, cur in gifts.one_offs if paid_at >= year_ago
    )
    return round(total)


def tier_units(amount: int, currency: str) -> float:
    """Minor units of `currency` as minor units of the tiers' amounts (MEMBER_TIER_RATES)."""
    return amount / current_app.config["MEMBER_TIER_RATES"].get(currency.upper(), 1)


def tier_for(amount: int) -> str | None:
    """The highest configured tier whose minimum the annual amount reaches."""
    reached = None
    for name, minimum in current_app.config["MEMBER_TIERS"]:
        if amount >= minimum:
            reached = name
    return reached if amount > 0 else None


def one_off_active_until(gifts: Gifts) -> datetime | None:
    months = current_app.config["ONE_OFF_ACTIVE_MONTHS"]
    paid = [paid_at for paid_at, _, _ in gifts.one_offs]
    return add_months(max(paid), months) if paid else None


def status_for(gifts: Gifts, active_until: datetime | None, now: datetime) -> MemberStatus:
    statuses = {status for status, *_ in gifts.recurring}
    if statuses & LIVE:
        return MemberStatus.ACTIVE
    if active_until is not None and active_until > now:
        return MemberStatus.ACTIVE
    if statuses & AT_RISK:
        return MemberStatus.PAST_DUE
    if SubscriptionStatus.PAUSED in statuses:
        # A trial that ended without a way to pay (Stripe's trial end behaviour "pause"): not
        # giving now, not cancelled either; resuming it makes the member active again.
        return MemberStatus.LAPSED
    if statuses & ENDED:
        return MemberStatus.CANCELED
    if active_until is not None:
        return MemberStatus.LAPSED
    return MemberStatus.NONE


def recompute(member: Member, now: datetime | None = None) -> Member:
    """Derive and store status, tier and active_until from the member's gifts."""
    now = now or datetime.now(UTC)
    db.session.flush()
    gifts = gifts_of(member.id)
    active_until = one_off_active_until(gifts)
    assign(
        member,
        active_until=active_until,
        status=status_for(gifts, active_until, now),
        tier=tier_for(annual_amount(gifts, now)),
    )
    return member


def assign(row: Any, **values: Any) -> None:
    """Set the attributes whose value differs: a row left as it was stays clean for the flush."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def lapse_expired(now: datetime | None = None) -> int:
    """Recompute members whose one-off membership has run out; returns how many changed."""
    now = now or datetime.now(UTC)
    due = db.session.scalars(
        select(Member).where(Member.status == MemberStatus.ACTIVE, Member.active_until <= now)
    ).all()
    changed = 0
    for member in due:
        before = member.status
        if recompute(member, now).status != before:
            changed += 1
    db.session.commit()
    log.info("members lapsed", extra={"fields": {"count": changed}})
    return changed
