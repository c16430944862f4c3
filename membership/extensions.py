"""Extension objects, created unbound here and bound to the app in create_app()."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import flask_login
from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

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
    from flask import Response

    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)


class LoginManager(flask_login.LoginManager):
    """Flask-Login, leaving requests that carry no cookie alone after they are answered.

    The one private name of a library that membership/ overrides, because no public hook keeps
    "Vary: Cookie" off cookieless pages: after every request Flask-Login's
    `_update_remember_cookie` looks in the session for a remember-me instruction, and reading
    flask.session makes Flask add "Vary: Cookie" (shared caches then keep a copy per cookie).
    Staff sign in with remember=False, so only logout_user() leaves one, and only for a request
    carrying cookies. tests/test_request_hooks.py fails if Flask-Login renames the hook.
    """

    def _update_remember_cookie(self, response: Response) -> Response:
        if "Cookie" not in request.headers:
            return response
        return cast("Response", super()._update_remember_cookie(response))


login_manager = LoginManager()
csrf = CSRFProtect()
# Counters live in RATELIMIT_STORAGE_URI: memory:// for one process, redis:// across workers.
limiter = Limiter(key_func=get_remote_address)
UNLIMITED_VIEWS: set[Callable[..., Any]] = set()


def unlimited(view: View) -> View:
    """No limit of any kind (default, application, meta, blueprint, fallback) for this view.

    The reader pages (prompt, banner script and frame) are anonymous, cached and loaded by
    every reader, so a per-address limit would only lock out readers who share an address.
    What readers can do that costs something, starting a checkout, stays limited.
    """
    UNLIMITED_VIEWS.add(view)
    return view


@limiter.request_filter
def is_unlimited() -> bool:
    """Flask-Limiter asks before it looks for any limit: True skips them all."""
    return current_app.view_functions.get(request.endpoint or "") in UNLIMITED_VIEWS


def conflict_insert(table: Any, dialect_name: str) -> Any:
    """An INSERT for `table` that can say ON CONFLICT: each database spells it its own way."""
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


babel = Babel()
