"""member name search index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

Staff search members by email prefix (an index since 0003) or by any part of the name:
lower(display_name) LIKE '%text%'. No b-tree serves a match in the middle, so a search that
found few or no members read all of them: 31 to 56 ms at 200k members, growing with the list.
On PostgreSQL a trigram index (the pg_trgm extension, shipped with PostgreSQL) serves it:
0.3 ms. SQLite has no such index; its search reads the table as before.

Not in the models: autogenerate cannot compare an expression index with an operator class,
and a database without pg_trgm has none (migrations/env.py leaves it out of comparisons).

"""
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
INDEX = "ix_member_display_name_trgm"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = trigram_schema(bind)
    if schema is None:
        log.warning(
            "pg_trgm is not available: member search by name reads the whole member table. "
            "Install PostgreSQL's contrib extensions, then run: CREATE EXTENSION pg_trgm; "
            "CREATE INDEX %s ON member USING gin (lower(display_name) <schema>.gin_trgm_ops);",
            INDEX,
        )
        return
    op.execute(
        f'CREATE INDEX {INDEX} ON member USING gin (lower(display_name) "{schema}".gin_trgm_ops)'
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")  # the extension stays: others may use it


def trigram_schema(bind):
    """The schema holding pg_trgm's operator class, installing the extension if need be.

    It goes into `public` unless already installed elsewhere: an extension belongs to the
    whole database, and one made in the schema this app's tables live in would go with it.
    """
    found = bind.execute(
        sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        )
    ).scalar()
    if found is not None:
        return found.strip('"')
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    if not available:
        return None
    bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    return "public"
