"""Who may see what: decorators for signed-in staff and for admins (contract for all views).

Each decorator marks the view it returns (`staff_only` / `admin_only`), so a test can walk
the URL map and fail on any /staff route that carries neither, and the blueprint can refuse
to serve one (see auth.check_staff_session).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from membership.dashboard import bp

F = TypeVar("F", bound=Callable[..., Any])


def staff_required(view: F) -> F:
    """Any active staff member; anonymous visitors are sent to the login page."""
    wrapper = login_required(view)
    wrapper.staff_only = True
    return wrapper


def admin_required(view: F) -> F:
    """Admins only: viewers get 403, anonymous visitors the login page."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapper.admin_only = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def public(view: F) -> F:
    """Reachable without signing in (the login page only): an explicit, greppable exception."""
    view.public_view = True  # type: ignore[attr-defined]
    return view


def is_marked(view: Callable[..., Any]) -> bool:
    """True when the view went through one of the decorators above."""
    return any(getattr(view, mark, False) for mark in ("staff_only", "admin_only", "public_view"))


def can_see_pii() -> bool:
    """Admins see names and emails; viewers see them masked."""
    return bool(current_user and current_user.is_authenticated and current_user.is_admin)


def mask_email(email: str | None) -> str:
    """ "reader@example.org" -> "r***@e***.org": enough to tell rows apart, not to contact."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    masked_local = f"{local[:1]}***"
    if not at:
        return masked_local
    name, dot, tld = domain.rpartition(".")
    if not dot:
        return f"{masked_local}@{domain[:1]}***"
    return f"{masked_local}@{name[:1]}***.{tld}"


# For every template, not only the dashboard's: `{% if can_see_pii() %}`, `{{ email|mask_email }}`.
bp.add_app_template_global(can_see_pii)
bp.add_app_template_filter(mask_email)
