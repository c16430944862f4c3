"""What the staff layout needs on every page: the navigation, trimmed to the viewer's role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user

from membership.dashboard import bp


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    admin_only: bool = False


# Pages still being built are skipped until their endpoint exists (see nav_links).
NAV = (
    NavItem("Overview", "dashboard.overview"),
    NavItem("Members", "dashboard.members"),
    NavItem("Campaigns", "dashboard.campaigns"),
    NavItem("Webhooks", "dashboard.webhooks"),
    NavItem("Emails", "dashboard.emails", admin_only=True),
    NavItem("Audit", "dashboard.audit", admin_only=True),
    NavItem("Staff", "dashboard.staff", admin_only=True),
)


def nav_links() -> list[dict[str, Any]]:
    """Links for the signed-in user: existing pages their role can open, the current one marked."""
    if not current_user.is_authenticated:
        return []
    endpoint = request.endpoint or ""
    links = []
    for item, url in nav_urls():
        if item.admin_only and not current_user.is_admin:
            continue
        current = endpoint == item.endpoint or endpoint.startswith(item.endpoint + "_")
        links.append({"label": item.label, "url": url, "current": current})
    return links


def nav_urls() -> list[tuple[NavItem, str]]:
    """The pages that exist, with their URLs: built once per app and mount point, not per page."""
    built: dict[str, list[tuple[NavItem, str]]] = current_app.extensions.setdefault(
        "dashboard_nav_urls", {}
    )
    key = request.script_root
    if key not in built:
        built[key] = [
            (item, url_for(item.endpoint))
            for item in NAV
            if item.endpoint in current_app.view_functions
        ]
    return built[key]


def status_text(value: str) -> str:
    """A status as staff read it: Stripe's "canceled" in the British spelling the service's
    own words use ("Cancelled"); the stored value, filters and links keep Stripe's."""
    return "cancelled" if value == "canceled" else value


@bp.context_processor
def layout_context() -> dict[str, Any]:
    return {"dashboard_nav": nav_links, "status_text": status_text}
