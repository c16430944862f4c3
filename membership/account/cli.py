"""`flask member export|erase PUBLIC_ID`: the donor's privacy rights, run by staff for them."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from membership.account import privacy
from membership.dashboard.audit.services import record
from membership.extensions import db
from membership.models import Member


@click.group("member")
def member_cli() -> None:
    """One member's data: export it as JSON, or erase it."""


def find(public_id: str) -> Member:
    member = db.session.scalar(select(Member).where(Member.public_id == public_id.strip()))
    if member is None:
        raise click.ClickException(f"No member with public id {public_id!r}.")
    return member


@member_cli.command("export")
@click.argument("public_id")
def export(public_id: str) -> None:
    """Print everything held about the member as JSON (audit-logged)."""
    member = find(public_id)
    data = privacy.export_data(member)
    record("member.export", "member", member.public_id, actor="cli")
    db.session.commit()
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


@member_cli.command("erase")
@click.argument("public_id")
@click.option("--yes", is_flag=True, help="Erase without asking.")
def erase(public_id: str, yes: bool) -> None:
    """Cancel the member's gifts at Stripe now and erase their personal data (audit-logged)."""
    member = find(public_id)
    if member.erased_at is not None:
        click.echo(f"{member.public_id}: already erased")
        return
    if not yes:
        click.confirm(
            f"Erase member {member.public_id}? Their recurring gifts end now.", abort=True
        )
    try:
        privacy.erase(member, actor="cli")
    except privacy.ErasureError as exc:
        raise click.ClickException(f"Nothing erased: {exc}") from exc
    click.echo(f"{member.public_id}: erased")
