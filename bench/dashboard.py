"""Staff side at scale: seed time, overview and member search on 200k members, CSV export."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import psycopg
from sqlalchemy import event

from bench.results import Row
from bench.servers import BIN, ROOT

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "200000"))
RUNS = 20
STAFF_EMAIL = "bench-admin@newsroom.example"
STAFF_PASSWORD = "a long bench passphrase 42"


def flask(
    database_url: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_ENV": "development",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )


def seed(database_url: str) -> list[Row]:
    started = time.perf_counter()
    flask(database_url, "demo", "seed", "--members", str(MEMBERS))
    seconds = time.perf_counter() - started
    with psycopg.connect(database_url) as conn:
        members = conn.execute("SELECT count(*) FROM member").fetchone()[0]  # type: ignore[index]
        gifts = conn.execute("SELECT count(*) FROM donation").fetchone()[0]  # type: ignore[index]
        conn.execute("ANALYZE")
    flask(
        database_url,
        "staff",
        "create",
        STAFF_EMAIL,
        "--role",
        "admin",
        "--password-stdin",
        stdin=STAFF_PASSWORD + "\n",
    )
    return [
        Row(
            what=f"`flask demo seed --members {MEMBERS}` (PostgreSQL)",
            ours=f"{seconds:.0f} s for {members:,} members, {gifts:,} donations",
            baseline="-",
            goal="< 120 s",
            met=seconds < 120,
            note="bulk inserts",
        )
    ]


def signed_in_client(database_url: str) -> Any:
    from membership import create_app
    from membership.config import DevelopmentConfig

    config = type(
        "BenchDashboard",
        (DevelopmentConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "LOGIN_RATE_LIMIT_IP": "1000 per minute",
            "LOGIN_RATE_LIMIT_ACCOUNT": "1000 per minute",
            "SANDBOX_STATE": "memory",
        },
    )
    app = create_app(config)
    client = app.test_client()
    response = client.post("/staff/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 302, response.status_code
    return app, client


def timed(client: Any, url: str) -> tuple[float, list[tuple[str, Any]]]:
    """Median ms of RUNS requests, and the SQL the last one ran (for the bare-SQL baseline)."""
    from membership.extensions import db

    statements: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        statements.append((statement, parameters))

    times = []
    for _ in range(RUNS + 2):
        statements.clear()
        with client.application.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", capture)
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        event.remove(engine, "before_cursor_execute", capture)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times[2:]), list(statements)


def bare_sql(database_url: str, statements: list[tuple[str, Any]]) -> float:
    """Median ms to run the same statements straight through psycopg."""
    times = []
    with psycopg.connect(database_url) as conn:
        for _ in range(RUNS + 2):
            started = time.perf_counter()
            for statement, parameters in statements:
                conn.execute(statement, parameters).fetchall()
            times.append((time.perf_counter() - started) * 1000)
            conn.rollback()
    return statistics.median(times[2:])


def pages(database_url: str) -> list[Row]:
    _app, client = signed_in_client(database_url)
    rows = []
    # q=reader12 matches no seeded member (seeded emails are first.last.N@example.org): an empty
    # page, 3 statements. q=ana fills a 50-row page: the giving query and money formatting too.
    # The two sorts read each member's stored giving (members/giving.py) in index order.
    for label, url, goal_ms in (
        ("overview `/staff/` (last 12 months)", "/staff/", 300),
        ("member search, no match `/staff/members?q=reader12`", "/staff/members?q=reader12", 50),
        ("member search, 50 rows `/staff/members?q=ana`", "/staff/members?q=ana", 50),
        ("members by total given `?sort=total`", "/staff/members?sort=total", 50),
        ("members by last gift `?sort=last_gift`", "/staff/members?sort=last_gift", 50),
    ):
        ours, statements = timed(client, url)
        bare = bare_sql(
            database_url, [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]
        )
        ratio = ours / bare if bare else float("inf")
        rows.append(
            Row(
                what=f"{label}, {MEMBERS:,} members",
                ours=f"median {ms(ours)} of {RUNS}",
                baseline=f"same SQL via psycopg: {ms(bare)} ({len(statements)} statements)",
                # The ratio to bare SQL is context: the goal is what staff wait for.
                goal=f"< {goal_ms} ms",
                met=ours < goal_ms,
                note=f"ratio {ratio:.2f} (context)",
            )
        )
    rows.append(signed_in_floor(client, database_url))
    return rows


def signed_in_floor(client: Any, database_url: str) -> Row:
    """What every staff page pays besides its SQL: the cheapest one a signed-in admin can open
    (the password form: session, login check, CSRF token, the dashboard's layout), less its one
    statement, the login's. A page within 1.5x of its bare SQL needs SQL of twice that."""
    ours, statements = timed(client, "/staff/password")
    bare = bare_sql(database_url, statements)
    overhead = ours - bare
    return Row(
        what="... of which the fixed cost of a signed-in staff page, `/staff/password`",
        ours=f"median {ms(ours)} of {RUNS}, {ms(overhead)} of it besides its SQL",
        baseline=f"same SQL via psycopg: {ms(bare)} ({len(statements)} statement)",
        goal="-",
        met=None,
        note=(
            f"where the searches' gap is, no goal of its own: a page takes at least its SQL plus"
            f" {ms(overhead)}, so it is within 1.5x of its bare SQL only if that SQL takes"
            f" {ms(2 * overhead)} or more"
        ),
        diagnosis=True,
    )


def ms(value: float) -> str:
    """Milliseconds, with a decimal below 10: the searches' ratios are of figures near 1 ms."""
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def export(database_url: str) -> list[Row]:
    """The donations CSV streamed by the app in a worker process (its memory is the server's),
    against psql \\copy of the same rows: the same joins, order and columns, as stored. Best of
    two runs each, alternating, since the machine is shared."""
    baseline_sql = (
        "SELECT d.id, m.public_id, d.paid_at, d.kind, d.status, d.amount, d.currency,"
        " d.amount_refunded, d.fee_covered, d.fee, d.net, d.settlement_currency, c.slug,"
        " d.article_url, d.utm_source, d.utm_medium, d.utm_campaign"
        " FROM donation d JOIN member m ON m.id = d.member_id"
        " LEFT OUTER JOIN campaign c ON c.id = d.campaign_id ORDER BY d.paid_at, d.id"
    )
    runs, psql_runs = [], []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-m", "bench.export_worker", database_url, STAFF_EMAIL],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        started = time.perf_counter()
        copy = f"\\copy ({baseline_sql}) TO '/dev/null' CSV HEADER"
        done = subprocess.run(
            ["psql", psql_url(database_url), "-c", copy], check=True, capture_output=True, text=True
        )
        psql_runs.append((time.perf_counter() - started, int(done.stdout.split()[-1])))
    best = min(runs, key=lambda run: run["seconds"])
    psql_seconds, psql_rows = min(psql_runs)
    assert best["rows"] == psql_rows, (best["rows"], psql_rows)
    rate = best["rows"] / best["seconds"]
    psql_rate = psql_rows / psql_seconds
    # The export's own peak where Linux lets the worker reset it after sign-in, else the
    # whole process's (which then includes argon2's 64 MiB password check).
    peak = max(run["export_peak_rss_mb"] or run["process_peak_rss_mb"] for run in runs)
    return [
        Row(
            what=f"CSV export of {best['rows']:,} donations (admin, streamed)",
            ours=f"{rate:,.0f} rows/s, peak RSS {peak:.0f} MB",
            baseline=f"psql \\copy of the same rows, raw columns: {psql_rate:,.0f} rows/s",
            goal=">= 0.25x psql; RSS < 200 MB",
            met=rate >= 0.25 * psql_rate and peak < 200,
            note=(
                f"ratio {rate / psql_rate:.2f}, best of 2 each; RSS: the worker process serving"
                f" the export in-process through the test client, {best['rss_before_mb']:.0f} MB"
                " resident before the request (app imported, staff signed in); its peak with"
                f" the argon2 sign-in: {max(run['process_peak_rss_mb'] for run in runs):.0f} MB"
            ),
        )
    ]


def psql_url(database_url: str) -> str:
    return database_url  # libpq understands the same URL, options included
