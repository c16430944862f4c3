"""Operations as `flask` commands."""

from __future__ import annotations

import click
from flask import Flask

from membership.health import schema_state


def register(app: Flask) -> None:
    app.cli.add_command(check_schema)


@click.command("check-schema")
def check_schema() -> None:
    """Exit non-zero unless the database is reachable and fully migrated (for deploy scripts)."""
    state = schema_state()
    click.echo(f"schema: {state}")
    if state != "current":
        raise SystemExit(1)
