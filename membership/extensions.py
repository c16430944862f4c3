"""Extension objects, created unbound here and bound to the app in create_app().

Some are thin subclasses that skip work every request paid for and the reader pages never
needed (measured in the README's Benchmarks section); what each one keeps is in its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

import flask_limiter
import flask_login
import flask_wtf.csrf
from flask import Flask, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

from membership.context import current_flask_app, current_request

View = TypeVar("View", bound=Callable[..., Any])
# Stable constraint names, so Alembic can drop and alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
# Models subclass this. db.Model is Base plus Flask-SQLAlchemy's mixins, built at run time,
# which type checkers cannot follow; to them it is Base.
if TYPE_CHECKING:
    from flask import Request, Response

    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)


class LoginManager(flask_login.LoginManager):
    """Flask-Login, leaving requests that carry no cookie alone after they are answered."""

    def _update_remember_cookie(self, response: Response) -> Response:
        # After every request Flask-Login looks in the session for a remember-me instruction;
        # reading flask.session makes Flask add "Vary: Cookie", also to the reader pages and
        # the banner, which depend on no cookie. Staff sign in with remember=False, so only
        # logout_user() leaves one, and only for a request carrying the remember-me cookie.
        if "HTTP_COOKIE" not in current_request().environ:
            return response
        return cast("Response", super()._update_remember_cookie(response))


login_manager = LoginManager()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, plus views it skips outright.

    Its before_request hook works out the limits of every request, even one for a view marked
    @exempt: a few hundred function calls, more than serving a cached reader page costs. The
    reader pages (prompt, banner script and frame) are `unlimited`: anonymous, cached and
    loaded by every reader, so a per-address limit would only lock out readers who share an
    address. What readers can do that costs something, starting a checkout, stays limited.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unlimited_views: set[Callable[..., Any]] = set()

    def unlimited(self, view: View) -> View:
        """No limit of any kind (default, application, meta, blueprint) applies to this view."""
        self.unlimited_views.add(view)
        self.exempt(view)
        return view

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        # Its after_request and teardown hooks read and reset a per-request record of the
        # limits checked, which an unlimited view never makes: a tenth of a reader page's work.
        for hooks in (app.after_request_funcs, app.teardown_request_funcs):
            hooks[None] = [
                self._unless_unlimited(hook) if self._owns(hook) else hook
                for hook in hooks.get(None, [])
            ]

    def _owns(self, hook: Callable[..., Any]) -> bool:
        """Flask-Limiter's own hooks: a partial of this limiter, or a bound method of it."""
        bound_to = hook.args[0] if isinstance(hook, partial) and hook.args else None
        return (bound_to or getattr(hook, "__self__", None)) is self

    def _unless_unlimited(self, hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def skipped_for_unlimited_views(value: Any) -> Any:
            return value if self.is_unlimited() else hook(value)

        return skipped_for_unlimited_views

    def is_unlimited(self) -> bool:
        """Whether this request's view is one of the unlimited ones (asked three times a
        request, so without the context proxies)."""
        rule = current_request().url_rule
        views = current_flask_app().view_functions
        return rule is not None and views.get(rule.endpoint) in self.unlimited_views

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        # Limits from decorators come with callable_name and in_middleware=False: always checked.
        if in_middleware and self.is_unlimited():
            return
        super()._check_request_limit(callable_name, in_middleware)


class CSRFProtect(flask_wtf.csrf.CSRFProtect):
    """Flask-WTF's CSRF check, answering safe methods before it looks up exemptions."""

    def protect(self, apply_exemptions: bool = False) -> None:
        # A GET is never checked, exempt or not; Flask-WTF finds that out last.
        if current_request().method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        super().protect(apply_exemptions)


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with no signer built for requests that have no session.

    Readers' pages are requested without a session cookie; Flask would build an itsdangerous
    serializer for each of them, only to find nothing to verify and nothing to store.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not self.has_cookie(app, request):
            return self.session_class()
        return super().open_session(app, request)

    def has_cookie(self, app: Flask, request: Request) -> bool:
        if "HTTP_COOKIE" not in request.environ:  # no cookies to parse at all
            return False
        name = self.get_cookie_name(app)
        return name in request.cookies and bool(request.cookies[name])

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:  # no cookie to set or to delete
            if session.accessed:
                add_vary(response, "Cookie")
            return
        super().save_session(app, session, response)


def add_vary(response: Response, *fields: str) -> None:
    """Add to the Vary header what is not in it yet (response.vary parses it into a set)."""
    current = response.headers.get("Vary")
    if not current:
        response.headers["Vary"] = ", ".join(fields)
        return
    present = {name.strip().lower() for name in current.split(",")}
    if missing := [field for field in fields if field.lower() not in present]:
        response.headers["Vary"] = ", ".join([current, *missing])


def conflict_insert(table: Any, dialect_name: str) -> Any:
    """An INSERT for `table` that can say ON CONFLICT: each database spells it its own way."""
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


csrf = CSRFProtect()
# Counters live in RATELIMIT_STORAGE_URI: memory:// for one process, redis:// across workers.
limiter = Limiter(key_func=get_remote_address)
babel = Babel()
