"""`flask demo seed`: a large, realistic, reproducible dataset for the dashboard, loaded in bulk."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from membership.dashboard.metrics import rollups
from membership.dashboard.seed_data import Ids, Rows, Story
from membership.extensions import db
from membership.members import giving
from membership.members.services import tier_for, tier_units
from membership.models import Campaign, Frequency, Member

ATTRIBUTION = ("campaign_id", "article_url", "utm_source")
COLUMNS: dict[str, tuple[str, ...]] = {
    "member": ("id", "public_id", "email", "display_name", "stripe_customer_id", "locale",
               "newsletter_consent", "newsletter_consent_at", "status", "tier", "active_until",
               "created_at", "updated_at"),
    "recurring_donation": ("id", "member_id", "stripe_subscription_id", "interval", "status",
                           "amount", "currency", "current_period_end", "cancel_at_period_end",
                           "started_at", "canceled_at", "cancellation_reason", "created_at",
                           "updated_at", *ATTRIBUTION),
    "checkout_attempt": ("id", "reference", "idempotency_key", "frequency", "amount", "currency",
                         "newsletter_consent", "locale", "member_id", "state", "completed_at",
                         "created_at", "updated_at", *ATTRIBUTION, "fee_covered"),
    "donation": ("id", "member_id", "recurring_donation_id", "checkout_attempt_id", "kind",
                 "status", "amount", "currency", "amount_refunded", "fee_covered", "fee", "net",
                 "settlement_currency", "stripe_payment_intent_id", "stripe_charge_id",
                 "stripe_invoice_id", "paid_at", "refunded_at", "disputed_at", "created_at",
                 "updated_at", *ATTRIBUTION),
}  # fmt: skip
MEMBERS_PER_BATCH = 2000  # about 10,000 donation rows per flush
CAMPAIGNS = (
    ("spring-drive", "Spring member drive", "Keep the lights on this spring", -400, -340),
    ("year-end", "Year-end appeal", "Double your impact before the year ends", -60, 20),
    ("investigations", "Investigations fund", "Fund the stories nobody else chases", -900, None),
    ("elections", "Election coverage", "Independent coverage of the elections", -700, -600),
)  # fmt: skip


# The seed's members, and only they, have Stripe customer ids like this (seed_data.Story).
DEMO_CUSTOMER_PREFIX = "cus_demo"


class SeedRefused(click.ClickException):
    """Seeding would be unsafe here; the message says why."""


class AlreadySeeded(Exception):
    """An earlier seed's members are here: seeding again only on purpose (--force)."""

    def __init__(self, members: int) -> None:
        super().__init__(f"{members} demo members")
        self.members = members


def seeded_tier(annual: int, currency: str) -> str | None:
    """The tier for a seeded member's annual giving in one currency, as recompute finds it."""
    return tier_for(round(tier_units(annual, currency)))


def seed(members: int, seed_value: int = 1, force: bool = False) -> dict[str, int]:
    """Add `members` members with three years of gifts, beside any already there (someone
    trying the demo may have given first); returns rows added per table."""
    if current_app.config.get("ENV_NAME") == "production":
        raise SeedRefused("Refusing to seed demo data in production.")
    already = seeded_members()
    if already and not force:
        raise AlreadySeeded(already)
    first_member = next_id("member")
    # Seeding again draws other public ids and references, which must stay unique.
    seed_key = f"{seed_value}:{first_member}" if already else seed_value
    rng = random.Random(seed_key)  # noqa: S311 (made-up data, not security)
    # Midnight today: the same seed gives the same data all day long.
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    story = Story(
        rng, now, campaign_ids(now), lambda annual, cur: tier_for(round(tier_units(annual, cur)))
    )
    ids = Ids(
        **{table: next_id(table) for table in COLUMNS if table != "member"},
        member=first_member,
    )
    added = dict.fromkeys(COLUMNS, 0)
    load = copy_rows if db.session.get_bind().dialect.name == "postgresql" else insert_rows
    for offset in range(0, members, MEMBERS_PER_BATCH):
        rows = Rows()
        for _ in range(min(MEMBERS_PER_BATCH, members - offset)):
            story.member(ids, rows)
        for table in COLUMNS:  # parents before children, for the foreign keys
            batch = getattr(rows, table)
            load(table, batch)
            added[table] += len(batch)
    finish()
    # The bulk load bypassed the ORM: nothing counted its members' giving or marked the months
    # it filled as changed.
    giving.rebuild(db.session.connection())
    rollups.mark_all_stale()
    db.session.commit()
    rollups.refresh(datetime.now(UTC))
    db.session.commit()
    vacuum()
    return added


def seeded_members() -> int:
    """How many members an earlier seed made."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Member)
            .where(Member.stripe_customer_id.startswith(DEMO_CUSTOMER_PREFIX, autoescape=True))
        )
        or 0
    )


def campaign_ids(now: datetime) -> list[int]:
    """The demo campaigns (reused if present), as ids for attribution."""
    found = []
    for slug, name, headline, start, end in CAMPAIGNS:
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
        if campaign is None:
            campaign = Campaign(
                slug=slug, name=name, headline=headline, default_frequency=Frequency.MONTH,
                starts_at=now + timedelta(days=start),
                ends_at=now + timedelta(days=end) if end is not None else None,
            )  # fmt: skip
            db.session.add(campaign)
            db.session.flush()
        found.append(campaign.id)
    return found


def next_id(table: str) -> int:
    highest = db.session.scalar(
        sa.select(sa.func.max(sa.column("id"))).select_from(sa.table(table))
    )
    return (highest or 0) + 1


def copy_rows(table: str, rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL COPY: the fastest bulk path, still inside the session's transaction."""
    if not rows:
        return
    raw: Any = db.session.connection().connection.dbapi_connection  # psycopg 3 Connection
    statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(table: str, rows: list[tuple[Any, ...]]) -> None:
    """Elsewhere (SQLite): one executemany INSERT per batch."""
    if not rows:
        return
    target = db.metadata.tables[table]
    names = COLUMNS[table]
    statement = sa.insert(target).values({name: sa.bindparam(name) for name in names})
    db.session.execute(statement, [dict(zip(names, row, strict=True)) for row in rows])


def finish() -> None:
    """Point PostgreSQL's id sequences past the ids we chose, and refresh planner statistics."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in COLUMNS:  # our own constant table names, never input
        sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"  # noqa: S608, E501
        db.session.execute(sa.text(sql))
    # Webhooks write gifts as they are paid, so a real table is stored roughly in paid_at order;
    # the seed writes one member's whole history at a time. Put the rows in the order a real
    # newsroom's would be, or every date-range read here would touch a page per row.
    db.session.execute(sa.text("CLUSTER donation USING ix_donation_paid_at"))


def vacuum() -> None:
    """VACUUM ANALYZE the seeded tables (outside any transaction, as VACUUM requires), so the
    planner knows the data and index-only scans work, as autovacuum would arrange in time."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in (*COLUMNS, "member_giving", "gift_month", "source_month"):  # constants
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))


@click.group("demo", cls=AppGroup)
def demo_cli() -> None:
    """Demo data for trying the dashboard."""


@demo_cli.command("foreign-history")
@click.option("--donors", default=12, show_default=True, type=click.IntRange(3, 5000))
def foreign_history_command(donors: int) -> None:
    """Another tool's gifts in the demo's Stripe stand-in, unknown to the service: try
    `flask stripe import` on them."""
    from flask import current_app

    from membership import sandbox as sandbox_module
    from membership.sandbox import foreign

    found = sandbox_module.of(current_app)
    if found is None:
        raise click.ClickException("Only in demo mode: with a Stripe key there is no stand-in.")
    made = foreign.make(found, donors)
    click.echo(
        f"Made at the stand-in: {len(made['subscriptions'])} recurring gifts, "
        f"{len(made['one_offs'])} one-off gifts, {len(made['merchandise'])} merchandise "
        "subscription, a refund, a lost dispute; no webhook was sent."
    )
    click.echo(
        f"The previous tool's donation product is {made['donation_product'][0]}. Try:\n"
        f"  GIFT_PRODUCT_IDS={made['donation_product'][0]} .venv/bin/flask stripe import --dry-run"
    )


@demo_cli.command("seed")
@click.option("--members", default=2000, show_default=True, type=click.IntRange(1, 2_000_000))
@click.option("--seed", "seed_value", default=1, show_default=True, help="Same seed, same data.")
@click.option("--force", is_flag=True, help="Seed again, on top of an earlier seed's members.")
def seed_command(members: int, seed_value: int, force: bool) -> None:
    """Members with three years of one-off, monthly and annual gifts, refunds and disputes."""
    started = time.perf_counter()
    try:
        added = seed(members, seed_value, force)
    except AlreadySeeded as done:
        click.echo(
            f"The demo data is already here ({done.members} demo members): nothing added. "
            f"To add {members} more: .venv/bin/flask demo seed --force"
        )
        return
    for table, count in added.items():
        click.echo(f"{table}: {count}")
    click.echo(f"seeded in {time.perf_counter() - started:.1f} s")
