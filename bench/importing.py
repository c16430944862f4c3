"""`flask stripe import` of a large account: another tool's history of CUSTOMERS customers in
the stand-in (bench/history.py), imported over HTTP into an empty PostgreSQL schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench.db import bench_schema, production_env
from bench.results import Row
from bench.servers import BIN, ROOT, stop
from bench.webhooks import stand_in

CUSTOMERS = int(os.environ.get("BENCH_IMPORT_CUSTOMERS", "50000"))
LIVE_LIMIT = 100  # Stripe's live-mode requests a second (https://docs.stripe.com/rate-limits)
CALLS = re.compile(
    r"Stripe API calls: (\d+) for (\d+) objects listed \(([\d.]+) per 100\); "
    r"objects read twice: (\d+)"
)


def run(_database_url: str) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp, bench_schema() as (url, _schema):
        out = Path(tmp) / "made.json"
        process, port = stand_in(out, "--customers", str(CUSTOMERS))
        try:
            made = json.loads(out.read_text())
            env = {
                **os.environ,
                **production_env(
                    url,
                    STRIPE_API_BASE=f"http://127.0.0.1:{port}",
                    GIFT_PRODUCT_IDS=made["donation_product"][0],
                    LOG_LEVEL="WARNING",
                ),
            }
            started = time.monotonic()
            done = subprocess.run(
                [str(BIN / "flask"), "--app", "app", "stripe", "import"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.monotonic() - started
        finally:
            stop(process)  # type: ignore[arg-type]
    found = CALLS.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"the import failed:\n{done.stdout}\n{done.stderr[-2000:]}")
    calls, listed, per_100, twice = int(found[1]), int(found[2]), float(found[3]), int(found[4])
    applied = sum(int(n) for n in re.findall(r": (\d+) imported", done.stdout))
    return [
        Row(
            f"import: Stripe calls per 100 objects listed ({CUSTOMERS:,} customers)",
            f"{per_100:.2f} ({calls:,} calls, {listed:,} objects)",
            "-",
            "≤ 1.5",
            per_100 <= 1.5,
        ),
        Row("import: objects read twice", str(twice), "-", "0", twice == 0),
        Row(
            "import: wall time, stand-in at once, 80 calls/s at most",
            f"{seconds:.0f} s ({applied / seconds:.0f} objects written/s)",
            "-",
            "-",
            None,
            f"{applied:,} gifts and recurring gifts written, a page of them a transaction",
            diagnosis=True,
        ),
        Row(
            "import: projected time at Stripe's live limit",
            f"≥ {calls / LIVE_LIMIT:.0f} s of requests",
            "-",
            "-",
            None,
            "calls / 100 a second, the floor the limit sets: the writes above take longer",
            diagnosis=True,
        ),
    ]
