"""Operations as `flask` commands."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import click
import stripe
from flask import Flask

from membership.account.cli import member_cli
from membership.dashboard.cli import dashboard_cli, staff_cli
from membership.dashboard.seed import demo_cli
from membership.health import schema_state
from membership.mail.cli import outbox_cli


def register(app: Flask) -> None:
    app.cli.add_command(check_schema)
    app.cli.add_command(stripe_group)
    app.cli.add_command(members_group)
    app.cli.add_command(demo_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(dashboard_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(member_cli)


@click.command("check-schema")
def check_schema() -> None:
    """Exit non-zero unless the database is reachable and fully migrated (for deploy scripts)."""
    state = schema_state()
    click.echo(f"schema: {state}")
    if state != "current":
        raise SystemExit(1)


@click.group("stripe")
def stripe_group() -> None:
    """Stripe webhook operations: replay stored events, reconcile with Stripe's event log."""


@stripe_group.command("replay")
@click.argument("event_id", required=False)
@click.option("--failed", is_flag=True, help="Every stored event not yet applied.")
def stripe_replay(event_id: str | None, failed: bool) -> None:
    """Run an event (or all unapplied ones) through its handler again."""
    from membership.webhooks import operations

    if failed == bool(event_id):
        raise click.UsageError("Give either EVENT_ID or --failed.")
    if event_id:
        outcome = operations.replay(event_id)
        click.echo(f"{event_id}: {outcome.value}")
        if outcome.value == "failed":
            raise SystemExit(1)
        return
    outcomes = operations.replay_failed()
    echo_counts(outcomes)
    if outcomes["failed"]:
        raise SystemExit(1)


@stripe_group.command("reconcile")
@click.option("--since", "window", default="3d", show_default=True, help="e.g. 3d, 12h (max 30d).")
def stripe_reconcile(window: str) -> None:
    """Apply events Stripe sent in the window that we missed or failed to apply."""
    from membership.webhooks import operations

    try:
        span = operations.parse_window(window)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    outcomes = operations.reconcile(span)
    echo_counts(outcomes)
    if outcomes["failed"]:
        raise SystemExit(1)


@stripe_group.command("import")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only objects created on or after this day (YYYY-MM-DD); the whole history if unset.",
)
@click.option(
    "--dry-run", is_flag=True, help="Say what would be imported and left out; write nothing."
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=80,
    show_default=True,
    help="Stripe requests a second at most (Stripe allows 100 in live mode, 25 in test mode).",
)
def stripe_import(since: Any, dry_run: bool, rate: float) -> None:
    """Adopt the account's history: members, gifts and recurring gifts from Stripe's lists,
    applied as webhooks apply them. Running it again changes nothing; an interrupted run goes
    on where it stopped when run again."""
    import sys
    from datetime import UTC

    from membership import importer

    shows = sys.stderr.isatty()  # a terminal sees progress; a log or a pipe only the result
    estimate = importer.Progress()
    last = {"at": 0.0, "width": 0.0}

    def progress(kind: str, obj: importer.Obj, tally: importer.Tally) -> None:
        new_list = kind != estimate.kind
        text = estimate.line(kind, obj, tally)
        if shows and (new_list or time.monotonic() - last["at"] >= 0.2):
            click.echo("\r" + text.ljust(int(last["width"])), nl=False, err=True)
            last.update(at=time.monotonic(), width=len(text))

    try:
        tally = importer.run(since.replace(tzinfo=UTC) if since else None, dry_run, rate, progress)
    except importer.ImportStopped as exc:
        raise click.ClickException(str(exc)) from exc
    except stripe.StripeError as exc:  # unreachable, a key without read access, a 5xx
        reason = exc.user_message or exc.__class__.__name__
        raise click.ClickException(
            f"Stripe stopped the import ({reason}). What was read before is written: "
            "run the import again to go on."
        ) from exc
    if shows:
        click.echo(err=True)
    click.echo("Dry run: nothing was written." if dry_run else "Imported.")
    for line in tally.lines():
        click.echo(line)


@click.group("members")
def members_group() -> None:
    """Membership upkeep."""


@members_group.command("lapse")
def members_lapse() -> None:
    """Move members whose one-off membership ran out to lapsed (run daily)."""
    from membership.members.services import lapse_expired

    click.echo(f"lapsed: {lapse_expired()}")


@members_group.command("recount")
def members_recount() -> None:
    """Recount every member's stored giving from their gifts (after editing gifts by hand)."""
    from membership.extensions import db
    from membership.members import giving

    giving.rebuild(db.session.connection())
    db.session.commit()
    click.echo("giving recounted")


def echo_counts(outcomes: Mapping[str, int]) -> None:
    if not outcomes:
        click.echo("nothing to do")
    for name, count in sorted(outcomes.items()):
        click.echo(f"{name}: {count}")
