"""`flask staff ...` accounts from a shell (the first admin, too); `flask dashboard rollup`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from membership.dashboard.metrics import rollups
from membership.dashboard.staff import services as accounts
from membership.extensions import db
from membership.models import StaffRole


@click.group("staff")
def staff_cli() -> None:
    """Staff accounts for the dashboard."""


@staff_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in StaffRole]),
    default=StaffRole.VIEWER.value,
    show_default=True,
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def staff_create(email: str, role: str, password_stdin: bool) -> None:
    """Add an account; asks for the password twice unless --password-stdin."""
    password = read_password(password_stdin)
    try:
        staff = accounts.create_staff(email, password, role, actor="cli")
    except accounts.StaffError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {staff.email} ({staff.role.value})")


@staff_cli.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def staff_set_password(email: str, password_stdin: bool) -> None:
    """Give an account a new password (asked twice unless --password-stdin); ends its sessions."""
    staff = accounts.find_by_email(email)
    if staff is None:
        raise click.ClickException(f"no staff account {accounts.normalise_email(email)}")
    password = read_password(password_stdin)
    try:
        accounts.set_password(staff, password, actor="cli")
    except accounts.StaffError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"password set for {staff.email}; its sessions have ended")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@staff_cli.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """Stop an account signing in and end all of its sessions now."""
    staff = accounts.find_by_email(email)
    if staff is None:
        raise click.ClickException(f"no staff account {accounts.normalise_email(email)}")
    accounts.disable_staff(staff, actor="cli")
    db.session.commit()
    click.echo(f"disabled {staff.email}; its sessions have ended")


@click.group("dashboard")
def dashboard_cli() -> None:
    """Upkeep of the dashboard's figures."""


@dashboard_cli.command("rollup")
@click.option(
    "--all", "everything", is_flag=True, help="Rebuild every closed month, not just stale ones."
)
def dashboard_rollup(everything: bool) -> None:
    """Rebuild the monthly gift totals of closed months that changed (run hourly from cron)."""
    now = datetime.now(UTC)
    if everything:
        rollups.mark_all_stale()
        db.session.commit()
    built = rollups.refresh(now)
    click.echo(
        f"rebuilt {len(built)} month(s)"
        + (f": {built[0]:%Y-%m} to {built[-1]:%Y-%m}" if built else "")
    )
