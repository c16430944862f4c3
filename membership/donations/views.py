"""Reader-facing pages."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("donations", __name__)


@bp.get("/")
def prompt() -> str:
    """The "Support us" prompt; campaign copy and the donation form arrive with issue 4."""
    return render_template(
        "donations/prompt.html", publication=current_app.config["PUBLICATION_NAME"]
    )
