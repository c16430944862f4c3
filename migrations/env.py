"""Alembic environment for Flask-Migrate: runs against the app's engine and models."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from membership.models import compared_by_autogenerate

config = context.config
# Keep the app's logging when migrations run inside it (tests, `flask db upgrade` with JSON logs).
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
engine = migrate_ext.db.engine
config.set_main_option(
    "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
)
target_metadata = migrate_ext.db.metadata


def render_item(type_, obj, autogen_context):
    """Render our column types as plain SQLAlchemy ones, so migrations never import app code."""
    if type_ != "type":
        return False
    name = type(obj).__name__
    if name == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    if name == "JSON" and getattr(obj, "_variant_mapping", None):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def skip_empty_autogenerate(context_, revision, directives):
    """`flask db migrate` with no model changes writes no empty revision."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=render_item,
        include_name=compared_by_autogenerate,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = dict(migrate_ext.configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("include_name", compared_by_autogenerate)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
