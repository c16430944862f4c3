"""Figures about people: recurring revenue, who joined and left, churn, the checkout funnel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from membership.dashboard.metrics.periods import Period, month_key, month_of
from membership.extensions import db
from membership.models import (
    CheckoutAttempt,
    CheckoutState,
    Interval,
    Member,
    MemberStatus,
    RecurringDonation,
    SubscriptionStatus,
)
from membership.money import Money

# Stripe statuses in which a recurring gift brings in money (past_due is "at risk", not revenue).
LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
NEEDS_ATTENTION = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)


@dataclass(frozen=True)
class RecurringRevenue:
    currency: str
    gifts: int
    mrr: Money  # monthly gifts plus a twelfth of annual ones
    arr: Money


def recurring_revenue() -> list[RecurringRevenue]:
    """MRR and ARR per currency from the recurring gifts live right now."""
    monthly = RecurringDonation.interval == Interval.MONTH
    stmt = (
        sa.select(
            RecurringDonation.currency,
            sa.func.count(),
            sa.func.sum(sa.case((monthly, RecurringDonation.amount), else_=0)),
            sa.func.sum(sa.case((monthly, 0), else_=RecurringDonation.amount)),
        )
        .where(RecurringDonation.status.in_(LIVE))
        .group_by(RecurringDonation.currency)
        .order_by(RecurringDonation.currency)
    )
    found = []
    for currency, gifts, month_sum, year_sum in db.session.execute(stmt):
        month_sum, year_sum = int(month_sum), int(year_sum)
        # Integer half-up of year_sum / 12: no float ever touches the amount.
        mrr = month_sum + (year_sum * 2 + 12) // 24
        found.append(
            RecurringRevenue(
                currency, gifts, Money(mrr, currency), Money(month_sum * 12 + year_sum, currency)
            )
        )
    return found


def active_recurring_members() -> int:
    """People with at least one live recurring gift (a person with two counts once)."""
    stmt = sa.select(sa.func.count(sa.distinct(RecurringDonation.member_id))).where(
        RecurringDonation.status.in_(LIVE)
    )
    return db.session.scalar(stmt) or 0


@dataclass(frozen=True)
class MemberMonth:
    month: str
    new: int
    cancelled: int
    lapsed: int


def members_by_month(period: Period, now: datetime) -> list[MemberMonth]:
    """New members, cancelled recurring gifts and lapsed one-off members per month."""
    new = counts_by_month(Member.created_at, period)
    cancelled = counts_by_month(RecurringDonation.canceled_at, period)
    # A one-off member lapses when active_until passes without a new gift.
    lapsed = counts_by_month(
        Member.active_until,
        period,
        Member.status == MemberStatus.LAPSED,
        Member.active_until < now,
    )
    return [
        MemberMonth(m, new.get(m, 0), cancelled.get(m, 0), lapsed.get(m, 0))
        for m in period.months()
    ]


def counts_by_month(
    column: sa.orm.InstrumentedAttribute[datetime] | sa.orm.InstrumentedAttribute[datetime | None],
    period: Period,
    *conditions: sa.ColumnElement[bool],
) -> dict[str, int]:
    month = month_of(column)
    stmt = (
        sa.select(month, sa.func.count())
        .where(column >= period.start, column < period.end, *conditions)
        .group_by(month)
    )
    return {month_key(m): count for m, count in db.session.execute(stmt)}


@dataclass(frozen=True)
class Churn:
    active_at_start: int
    cancelled: int

    @property
    def rate(self) -> Decimal | None:
        """Cancelled in the period over live at its start, as a percentage to one decimal."""
        if not self.active_at_start:
            return None
        return (Decimal(100 * self.cancelled) / self.active_at_start).quantize(Decimal("0.1"))


def churn(period: Period) -> Churn:
    """Recurring gifts cancelled in the period, against those running when it began."""
    started_before = sa.and_(
        RecurringDonation.started_at < period.start,
        sa.or_(
            RecurringDonation.canceled_at.is_(None),
            RecurringDonation.canceled_at >= period.start,
        ),
    )
    cancelled = sa.and_(
        RecurringDonation.canceled_at >= period.start, RecurringDonation.canceled_at < period.end
    )
    stmt = sa.select(
        sa.func.sum(sa.case((started_before, 1), else_=0)),
        sa.func.sum(sa.case((cancelled, 1), else_=0)),
    ).where(RecurringDonation.started_at < period.end)
    active, gone = db.session.execute(stmt).one()
    return Churn(int(active or 0), int(gone or 0))


@dataclass(frozen=True)
class Funnel:
    started: int
    completed: int
    expired: int

    @property
    def conversion(self) -> Decimal | None:
        if not self.started:
            return None
        return (Decimal(100 * self.completed) / self.started).quantize(Decimal("0.1"))


def checkout_funnel(period: Period) -> Funnel:
    """Checkouts started in the period, and how many of those completed or expired."""
    state = CheckoutAttempt.state
    stmt = sa.select(
        sa.func.count(),
        sa.func.sum(sa.case((state == CheckoutState.COMPLETED, 1), else_=0)),
        sa.func.sum(sa.case((state == CheckoutState.EXPIRED, 1), else_=0)),
    ).where(CheckoutAttempt.created_at >= period.start, CheckoutAttempt.created_at < period.end)
    started, completed, expired = db.session.execute(stmt).one()
    return Funnel(int(started), int(completed or 0), int(expired or 0))


@dataclass(frozen=True)
class AtRisk:
    currency: str
    gifts: int
    monthly_value: Money  # what is at stake each month if these are not recovered


def failed_payments() -> list[AtRisk]:
    """Recurring gifts whose last payment failed (past_due or unpaid), per currency."""
    monthly = RecurringDonation.interval == Interval.MONTH
    value = sa.case((monthly, RecurringDonation.amount * 12), else_=RecurringDonation.amount)
    stmt = (
        sa.select(RecurringDonation.currency, sa.func.count(), sa.func.sum(value))
        .where(RecurringDonation.status.in_(NEEDS_ATTENTION))
        .group_by(RecurringDonation.currency)
        .order_by(RecurringDonation.currency)
    )
    return [
        AtRisk(currency, gifts, Money((int(yearly) * 2 + 12) // 24, currency))
        for currency, gifts, yearly in db.session.execute(stmt)
    ]
