"""The schema comes only from migrations, and the migrations agree with the models."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from membership import create_app
from membership.extensions import db
from tests.conftest import TEST_DATABASE_URL, Database, drop_postgres_schema, fresh_postgres_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """A database with nothing in it, not even alembic_version."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite:///{tmp_path / 'empty.db'}")
        return
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL half: set TEST_DATABASE_URL (CI always does)")
    database, admin, schema = fresh_postgres_schema("migr")
    yield database
    drop_postgres_schema(admin, schema)


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_from_empty_matches_the_models_then_downgrades_cleanly(empty_database):
    app = create_app(empty_database.config())
    with app.app_context():
        assert table_names(db.engine) == set()

        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree; run `flask db migrate`: {diff}"
        assert table_names(db.engine) == set(db.metadata.tables) | {"alembic_version"}

        flask_migrate.downgrade(revision="base")
        assert table_names(db.engine) == {"alembic_version"}
        flask_migrate.upgrade()  # and the chain replays from scratch
        assert set(db.metadata.tables) <= table_names(db.engine)
        db.engine.dispose()


def test_the_app_never_creates_tables_itself(empty_database):
    """Starting the app and serving a request leaves an empty database empty."""
    app = create_app(empty_database.config())
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["schema"] == "behind"
    with app.app_context():
        assert table_names(db.engine) == set()
        db.engine.dispose()


def test_migration_history_is_linear(app):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(app.extensions["migrate"].directory)
    assert len(script.get_heads()) == 1, "two migration heads: merge them (`flask db merge`)"
