"""Made-up but plausible members and gifts for the demo seed: one reproducible story per member."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from membership.members.services import add_months

YEARS = 3
CURRENCIES = (("USD", 50), ("EUR", 20), ("GBP", 15), ("JPY", 15))
# Minor units; JPY is zero-decimal, so its yen amounts look 100x larger.
ONE_OFF = {"JPY": (1000, 3000, 5000, 10000, 30000), "*": (1000, 1500, 2500, 5000, 10000, 25000)}
MONTHLY = {"JPY": (500, 1000, 2000, 3000), "*": (500, 1000, 1500, 2000, 2500)}
ANNUAL = {"JPY": (5000, 10000, 20000), "*": (5000, 10000, 12000, 20000)}
# Stripe card pricing, roughly: per mille plus a fixed part, in minor units.
FEES = {"USD": (29, 30), "EUR": (15, 25), "GBP": (15, 20), "JPY": (36, 0)}
COVERING = 2  # of every 5 members, by id, add the card fees to each gift (donations/fees.py)
MONTHLY_CHURN, ANNUAL_CHURN = 0.03, 0.25
FIRST = "ana ben chloe dmitri eva farid grace hiro ines jonas kate liam maria nadia olga".split()  # noqa: SIM905
LAST = "ivanova smith garcia tanaka muller rossi kim novak silva dubois brown lee".split()  # noqa: SIM905
REASONS = ("too_expensive", "switched_service", "unused", "other", None)
UTM = ("newsletter", "twitter", "facebook", "homepage", None, None)


@dataclass
class Rows:
    """Rows for each table as tuples in the column order of seed.COLUMNS."""

    member: list[tuple[Any, ...]] = field(default_factory=list)
    recurring_donation: list[tuple[Any, ...]] = field(default_factory=list)
    checkout_attempt: list[tuple[Any, ...]] = field(default_factory=list)
    donation: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class Ids:
    """Next free id per table (the seed assigns them, so children can point at parents)."""

    member: int
    recurring_donation: int
    checkout_attempt: int
    donation: int

    def take(self, table: str) -> int:
        value: int = getattr(self, table)
        setattr(self, table, value + 1)
        return value


class Story:
    """Writes one member's history into Rows, drawing every choice from one seeded Random."""

    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        campaigns: list[int],
        tier_for: Callable[[int, str], str | None],  # annual minor units, currency
    ) -> None:
        self.rng, self.now, self.campaigns, self.tier_for = rng, now, campaigns, tier_for
        self.start = now - timedelta(days=365 * YEARS)

    def member(self, ids: Ids, rows: Rows) -> None:
        rng, now = self.rng, self.now
        member_id = ids.take("member")
        # Later joins are likelier: the newsroom is growing.
        joined = self.start + (now - self.start) * (rng.random() ** 0.7)
        currency = rng.choices([c for c, _ in CURRENCIES], [w for _, w in CURRENCIES])[0]
        source = self.source()
        plan = rng.choices(("one_off", "month", "year"), (55, 35, 10))[0]
        attempt_id = ids.take("checkout_attempt")
        covers = member_id % 5 < COVERING  # not drawn: the other choices stay as they were
        gifts: list[tuple[datetime, int, str]] = []  # paid_at, amount, kind
        status, annual, active_until, recurring_id = "none", 0, None, None
        if plan == "one_off":
            paid = joined
            while paid < now:
                gifts.append((paid, self.pick(ONE_OFF, currency, covers), "one_off"))
                if rng.random() > 0.3:
                    break
                paid += timedelta(days=rng.randint(30, 400))
            active_until = add_months(gifts[-1][0], 12)
            status = "active" if active_until > now else "lapsed"
            annual = sum(a for p, a, _ in gifts if p > now - timedelta(days=365))
        else:
            recurring_id = ids.take("recurring_donation")
            step, churn = (1, MONTHLY_CHURN) if plan == "month" else (12, ANNUAL_CHURN)
            amount = self.pick(MONTHLY if plan == "month" else ANNUAL, currency, covers)
            paid, n, ended = joined, 0, False
            while paid < now and not ended:
                gifts.append((paid, amount, "recurring"))
                n += 1
                ended = rng.random() < churn
                paid = add_months(joined, n * step)
            sub_status, canceled_at = "active", None
            if ended:
                sub_status = "canceled"
                canceled_at = min(gifts[-1][0] + timedelta(days=rng.randint(1, 25)), now)
            elif rng.random() < 0.03:
                sub_status = "past_due"
            status = {"active": "active", "past_due": "past_due", "canceled": "canceled"}[
                sub_status
            ]
            annual = amount * (12 // step) if sub_status != "canceled" else 0
            rows.recurring_donation.append(
                (recurring_id, member_id, f"sub_demo{recurring_id:08d}", plan, sub_status,
                 amount, currency, paid, False, joined, canceled_at,
                 rng.choice(REASONS) if canceled_at else None, joined, joined, *source)
            )  # fmt: skip
        first, last = rng.choice(FIRST), rng.choice(LAST)
        consent = rng.random() < 0.4
        rows.member.append(
            (member_id, f"{rng.getrandbits(128):032x}", f"{first}.{last}.{member_id}@example.org",
             f"{first.title()} {last.title()}" if rng.random() < 0.6 else None,
             f"cus_demo{member_id:08d}", "ru" if rng.random() < 0.15 else "en", consent,
             joined if consent else None, status, self.tier_for(annual, currency), active_until,
             joined, joined)
        )  # fmt: skip
        chosen = gifts[0][1] - covered(gifts[0][1], currency, covers)
        rows.checkout_attempt.append(
            (attempt_id, f"{rng.getrandbits(128):032x}", f"demo-{attempt_id}", plan,
             chosen, currency, consent, "en", member_id, "completed", joined, joined, joined,
             *source, gifts[0][1] - chosen)
        )  # fmt: skip
        if rng.random() < 0.6:  # someone who got as far as Stripe's page and left
            left_id = ids.take("checkout_attempt")
            at = self.start + (now - self.start) * rng.random()
            rows.checkout_attempt.append(
                (left_id, f"{rng.getrandbits(128):032x}", f"demo-{left_id}", plan,
                 chosen, currency, False, "en", None, "expired", None, at, at, *self.source(),
                 gifts[0][1] - chosen)
            )  # fmt: skip
        for index, (paid, amount, kind) in enumerate(gifts):
            self.donation(ids, rows, member_id, recurring_id, attempt_id if index == 0 else None,
                          paid, amount, currency, kind, source,
                          covered(amount, currency, covers))  # fmt: skip

    def donation(self, ids: Ids, rows: Rows, member_id: int, recurring_id: int | None,
                 attempt_id: int | None, paid: datetime, amount: int, currency: str, kind: str,
                 source: tuple[Any, ...], fee_covered: int) -> None:  # fmt: skip
        rng = self.rng
        donation_id = ids.take("donation")
        status, refunded, refunded_at, disputed_at = "succeeded", 0, None, None
        roll = rng.random()
        if roll < 0.008:
            status, refunded = "refunded", amount
        elif roll < 0.013:
            refunded = amount // 2
        elif roll < 0.016:
            status = "dispute_lost" if roll < 0.0145 else "disputed"
            disputed_at = paid + timedelta(days=rng.randint(5, 60))
        if refunded:
            refunded_at = paid + timedelta(days=rng.randint(1, 30))
        per_mille, fixed = FEES[currency]
        fee = amount * per_mille // 1000 + fixed
        invoice = f"in_demo{donation_id:09d}" if kind == "recurring" else None
        rows.donation.append(
            (donation_id, member_id, recurring_id, attempt_id, kind, status, amount, currency,
             refunded, fee_covered, fee, amount - fee, currency, f"pi_demo{donation_id:09d}",
             f"ch_demo{donation_id:09d}", invoice, paid, refunded_at, disputed_at, paid, paid,
             *source)
        )  # fmt: skip

    def source(self) -> tuple[Any, ...]:
        """(campaign_id, article_url, utm_source): a few campaigns, many articles, long tail."""
        rng = self.rng
        campaign = rng.choice(self.campaigns) if self.campaigns and rng.random() < 0.35 else None
        article = None
        if rng.random() < 0.7:
            n = int(3000 * rng.random() ** 3)  # a few articles bring most readers
            article = f"https://news.example/{2024 + n % 3}/story-{n}"
        return (campaign, article, rng.choice(UTM))

    def pick(self, table: dict[str, tuple[int, ...]], currency: str, covers: bool) -> int:
        """A suggested amount; with the card fee added (grossed up, as the form does) if the
        member covers the fees."""
        amount = self.rng.choice(table.get(currency, table["*"]))
        if not covers:
            return amount
        per_mille, fixed = FEES[currency]
        return -(-(amount + fixed) * 1000 // (1000 - per_mille))


def covered(total: int, currency: str, covers: bool) -> int:
    """The part of a gift of `total` (made by pick) that covered the fees: what the fee is."""
    if not covers:
        return 0
    per_mille, fixed = FEES[currency]
    return total - (total * (1000 - per_mille) // 1000 - fixed)
