"""The schema comes only from migrations, and the migrations agree with the models."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from membership import create_app
from membership.extensions import db
from membership.models import Member, MemberGiving, compared_by_autogenerate
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
                conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_name": compared_by_autogenerate,
                },
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


def test_member_giving_is_filled_from_the_gifts_already_stored(empty_database):
    """0005 adds stored giving: an existing database gets it counted, as the app counts it."""
    app = create_app(empty_database.config())
    with app.app_context():
        flask_migrate.upgrade(revision="0004")
        with db.engine.begin() as conn:
            for n in (1, 2, 3):
                conn.execute(
                    sa.text(
                        "INSERT INTO member (id, public_id, locale, newsletter_consent, status,"
                        " created_at, updated_at) VALUES (:id, :pid, 'en', false, 'active',"
                        " '2026-01-01', '2026-01-01')"
                    ),
                    {"id": n, "pid": f"m{n}"},
                )
            gifts = [  # member, status, amount, refunded, currency, paid
                (1, "succeeded", 1000, 0, "USD", "2026-03-01"),
                (1, "refunded", 2000, 500, "USD", "2026-04-01"),
                (1, "dispute_lost", 3000, 0, "EUR", "2026-05-01"),
                (1, "failed", 9000, 0, "USD", "2026-06-01"),
                (2, "pending", 700, 0, "GBP", "2026-02-01"),
            ]
            for n, (member, status, amount, refunded, currency, paid) in enumerate(gifts):
                conn.execute(
                    sa.text(
                        "INSERT INTO donation (id, member_id, kind, status, amount,"
                        " amount_refunded, currency, paid_at, created_at, updated_at)"
                        " VALUES (:id, :member, 'one_off', :status, :amount, :refunded,"
                        " :currency, :paid, :paid, :paid)"
                    ),
                    {
                        "id": n + 1,
                        "member": member,
                        "status": status,
                        "amount": amount,
                        "refunded": refunded,
                        "currency": currency,
                        "paid": paid,
                    },
                )
        flask_migrate.upgrade()
        rows = db.session.execute(
            sa.select(MemberGiving.member_id, MemberGiving.currency, MemberGiving.kept,
                      MemberGiving.gifts).order_by(MemberGiving.member_id, MemberGiving.currency)
        ).all()  # fmt: skip
        last = dict(db.session.execute(sa.select(Member.id, Member.last_gift_at)).all())
        db.session.remove()
        db.engine.dispose()
    assert rows == [(1, "EUR", 0, 1), (1, "USD", 2500, 2), (2, "GBP", 0, 0)]
    assert {k: v and v.date().isoformat() for k, v in last.items()} == {
        1: "2026-05-01", 2: None, 3: None,
    }  # fmt: skip
