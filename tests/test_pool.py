"""Pooled connections: pinged before use only after sitting idle, and replaced if dead.

The server side of a connection is killed with pg_terminate_backend, as a restart, an idle
timeout or a dropped TCP session would; what the next request on it sees is the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from membership.extensions import db

pytestmark = pytest.mark.usefixtures("backend")


def backend_pid() -> int:
    """The server process behind the connection this runs on; returns it to the pool after."""
    with db.engine.connect() as connection:
        return int(connection.scalar(sa.text("SELECT pg_backend_pid()")))


def kill(pid: int) -> None:
    """End that server process from a connection outside the app's pool, and wait until it
    is gone (the timeout makes pg_terminate_backend wait, up to 10 s, instead of only signal)."""
    with sa.create_engine(db.engine.url).connect() as other:
        ended = other.scalar(sa.text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        assert ended


@pytest.fixture
def postgres_app(make_app: Callable[..., Flask], backend: str) -> Callable[..., Flask]:
    if backend != "postgresql":
        pytest.skip("needs a server to lose connections to")
    return make_app


def test_a_connection_gone_while_idle_is_replaced_before_use(postgres_app):
    app = postgres_app(DATABASE_PING_AFTER_IDLE=0)  # every connection counts as idle
    with app.app_context():
        first = backend_pid()
        kill(first)
        assert backend_pid() != first  # the ping failed, so the pool connected afresh


def test_a_connection_just_used_is_not_pinged(postgres_app):
    app = postgres_app(DATABASE_PING_AFTER_IDLE=3600)
    with app.app_context():
        first = backend_pid()
        kill(first)
        # No ping: the dead connection is handed out, and the statement on it fails...
        with pytest.raises(sa.exc.OperationalError) as raised:
            backend_pid()
        assert raised.value.connection_invalidated
        # ...which tells SQLAlchemy to replace the pool: the next request works.
        assert backend_pid() != first


def test_a_request_after_a_quiet_spell_succeeds_on_a_fresh_connection(postgres_app):
    app = postgres_app(DATABASE_PING_AFTER_IDLE=0)
    client = app.test_client()
    with app.app_context():
        first = backend_pid()
        kill(first)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_the_default_pings_connections_idle_a_second_or_more(app):
    assert app.config["DATABASE_PING_AFTER_IDLE"] == 1
    assert not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping")


def test_postgresql_keeps_a_connection_for_each_server_thread(make_app, backend):
    app = make_app(DATABASE_POOL_SIZE=7)
    with app.app_context():
        expected = 7 if backend == "postgresql" else 5  # SQLite keeps SQLAlchemy's default
        assert db.engine.pool.size() == expected  # type: ignore[attr-defined]
