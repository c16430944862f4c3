"""Fixtures: every test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.

Each backend gets a fresh schema built by the real migrations once per session; each test
starts with empty tables (rows are deleted after it), so tests may commit, open several
connections and run concurrent transactions, as the app itself does.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from membership import create_app, normalise_database_url
from membership.config import TestConfig
from membership.extensions import db, limiter

# The run fails if a log record holds an email or name the tests handed out.
pytest_plugins = ["tests.log_leaks"]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


def pytest_report_header(config: pytest.Config) -> str:
    return f"database backends: {', '.join(BACKENDS)}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """TEST_DATABASE_URL set but PostgreSQL unreachable is a failure, never a silent skip."""
    if not TEST_DATABASE_URL:
        return
    engine = sa.create_engine(normalise_database_url(TEST_DATABASE_URL))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        raise pytest.UsageError(
            f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc.orig}"
        ) from exc
    finally:
        engine.dispose()


@dataclass
class Database:
    backend: str
    url: str
    engine_options: dict[str, Any] = field(default_factory=dict)

    def config(self, **overrides: Any) -> type[TestConfig]:
        """A TestConfig subclass pointed at this database."""
        settings = {
            "SQLALCHEMY_DATABASE_URI": self.url,
            "SQLALCHEMY_ENGINE_OPTIONS": self.engine_options,
            **overrides,
        }
        return type(f"TestConfig_{self.backend}", (TestConfig,), settings)


def fresh_postgres_schema(prefix: str) -> tuple[Database, sa.Engine, str]:
    """A new, empty schema in the test database, selected through search_path."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalise_database_url(TEST_DATABASE_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    options = {"connect_args": {"options": f"-csearch_path={schema}"}}
    return Database("postgresql", TEST_DATABASE_URL, options), admin, schema


def drop_postgres_schema(admin: sa.Engine, schema: str) -> None:
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def migrate(database: Database) -> None:
    app = create_app(database.config())
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


@contextmanager
def migrated_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        database = Database("sqlite", f"sqlite:///{path}")
        migrate(database)
        yield database
        return
    database, admin, schema = fresh_postgres_schema("test")
    try:
        migrate(database)
        yield database
    finally:
        drop_postgres_schema(admin, schema)


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A migrated database for the whole session, one per backend."""
    with migrated_database(request.param, tmp_path_factory) as found:
        yield found


def empty_tables() -> None:
    """Children before parents, so foreign keys never block the clean-up."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


class ServerLikeClient(FlaskClient):
    """Reads each answer to its end and closes it, as a server does: work a view leaves for
    after its page (account/views.py, after_response) has run when the test looks.
    `buffered=False` stops after the first chunk, to see what ran before the page was sent."""

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> Any:
        return super().open(*args, buffered=buffered, **kwargs)


class OwnContext:
    """Each request in a context of its own, as a server's thread runs it: it shares no app
    context (`g`, the database session) with the test that sent it or with other requests."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        context = contextvars.Context()
        return BodyInContext(context, context.run(self.wsgi_app, environ, start_response))


class BodyInContext:
    """The response body, read and closed in its request's context (stream_with_context)."""

    def __init__(self, context: contextvars.Context, body: Iterable[bytes]) -> None:
        self.context = context
        self.body = body
        self.chunks = context.run(iter, body)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return self.context.run(next, self.chunks)

    def close(self) -> None:
        if close := getattr(self.body, "close", None):
            self.context.run(close)


@pytest.fixture
def make_app(database: Database) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test database with config overrides; their rows are removed after."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        made.append(create_app(database.config(**overrides)))
        made[-1].wsgi_app = OwnContext(made[-1].wsgi_app)  # type: ignore[method-assign]
        made[-1].test_client_class = ServerLikeClient
        return made[-1]

    yield factory
    for index, built in enumerate(made):
        with built.app_context():
            db.session.remove()
            if index == 0:
                empty_tables()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def forget_default_rate_limits() -> Iterator[None]:
    """The Limiter is one object for every app this process builds, and it keeps the first
    RATELIMIT_DEFAULT it is given: a test that sets one must not limit the tests after it."""
    yield
    limiter.limit_manager.set_default_limits([])


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """Holds no context: a test opens `with app.app_context():` for its own database work."""
    return make_app()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    """The app's context held open for the test's own database work, across its requests
    (each of which still runs in its own context: OwnContext)."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def backend(database: Database) -> str:
    return database.backend


def self_signed_certificate(directory: Path) -> tuple[str, str]:
    """A certificate and key for 127.0.0.1, made by openssl (the test skips without it)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate to serve HTTPS with")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)
