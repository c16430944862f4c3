"""A throw-away PostgreSQL schema, migrated by the real migrations, for one bench run."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bench.servers import BIN, ROOT

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


@contextmanager
def bench_schema() -> Iterator[tuple[str, str]]:
    """Yields (DATABASE_URL selecting a new schema, schema name); drops the schema after."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{admin_url()}?options=-csearch_path%3D{schema}"
    try:
        env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development"}
        subprocess.run(
            [str(BIN / "flask"), "--app", "app", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        yield url, schema
    finally:
        with psycopg.connect(admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    """What a production deploy sets, with obviously fake keys (Stripe is never called here)."""
    return {
        "APP_ENV": "production",
        "SECRET_KEY": "bench-" + "0" * 58,
        "STRIPE_SECRET_KEY": "sk_test_bench_not_a_real_key",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench_not_a_real_secret",
        "DATABASE_URL": database_url,
        "PUBLICATION_NAME": "The Bench Gazette",
        **extra,
    }
