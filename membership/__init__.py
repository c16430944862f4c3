"""The reader donation and membership service: create_app() builds a configured Flask app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, request

from membership import demo, errors, health, i18n, input_guard, logs, pool, security, stripe_api
from membership.config import Config, config_from_env
from membership.extensions import csrf, db, limiter, login_manager, migrate

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class App(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """Flask's documented hook for the line an unhandled error logs, which names the
        request's path: a sign-in link's path holds its token. Name the route's pattern
        instead, as the request log does (logs.py)."""
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        self.logger.error("Exception on %s [%s]", rule, request.method, exc_info=exc_info)


def create_app(config: type[Config] | Mapping[str, Any] | None = None) -> Flask:
    """Build the app from a config class, or from APP_ENV's class plus a mapping of overrides."""
    app = App(
        __name__,
        instance_path=os.path.join(PROJECT_ROOT, "instance"),
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
    )
    load_config(app, config)
    trust_proxies(app)
    logs.configure(app)
    register_extensions(app)
    input_guard.init_app(app)  # after the limiter's check, before the blueprints' int rules
    register_template_helpers(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    stripe_api.init_app(app)
    demo.init_app(app)  # the demo mailbox and console lines: demo mode only
    return app


def load_config(app: Flask, config: type[Config] | Mapping[str, Any] | None) -> None:
    config_class = config if isinstance(config, type) else config_from_env()
    app.config.from_object(config_class)
    if isinstance(config, Mapping):
        app.config.update(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        # Zero configuration: an embedded SQLite file under instance/.
        os.makedirs(app.instance_path, exist_ok=True)
        db_path = os.path.join(app.instance_path, "membership.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    # A database error's message names the statement, never its values (emails, Stripe ids):
    # tracebacks end up in logs. Added to the options given, in every environment.
    options = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "hide_parameters": True}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A connection kept for each gunicorn thread (gunicorn.conf.py): with fewer, the pool
        # would open and close connections all the time under load.
        options = {"pool_size": app.config["DATABASE_POOL_SIZE"], **options}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    config_class.validate(dict(app.config))


def trust_proxies(app: Flask) -> None:
    """Behind N proxies, take the client address and scheme from their X-Forwarded-* headers."""
    count = app.config["PROXY_COUNT"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )


def normalise_database_url(url: str) -> str:
    """Accept the postgres:// and postgresql:// URLs that hosts hand out; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.register(app)
    login_manager.init_app(app)
    security.init_app(app)
    from membership import models  # noqa: F401  (registers the tables on db.metadata)
    from membership.dashboard import auth  # noqa: F401  (registers the staff user loader)

    with app.app_context():
        pool.init_app(app, db.engine)
    configure_sqlite(app)


def configure_sqlite(app: Flask) -> None:
    """SQLite ignores foreign keys unless asked, and locks readers out of writers without WAL."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from membership.money import Money
    from membership.receipts import issuer

    def format_money(money: Money) -> str:
        return money.format(str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]))

    def format_money_whole(money: Money) -> str:
        return money.format_whole(str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]))

    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["receipt_issuer"] = issuer  # account receipts and receipt emails
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["money_whole"] = format_money_whole  # suggested amounts: "$10"


def register_blueprints(app: Flask) -> None:
    from membership import dashboard
    from membership.account import views as account
    from membership.donations import embed
    from membership.donations import views as donations
    from membership.webhooks import views as webhooks

    for blueprint in (
        health.bp,  # /healthz
        donations.bp,  # /, /give, /thanks: readers
        embed.bp,  # /embed.js, /embed/banner, /demo/article
        webhooks.bp,  # /stripe/webhook
        dashboard.bp,  # /staff
        account.bp,  # /account: donors
    ):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    errors.register(app)


def register_commands(app: Flask) -> None:
    from membership.cli import register

    register(app)
