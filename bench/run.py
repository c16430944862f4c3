"""`make bench`: every measurement in one run, written to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench import checkout, dashboard, importing, web, webhooks
from bench.db import bench_schema
from bench.results import Row, table, write

MEASUREMENTS: dict[str, Callable[[str], list[Row]]] = {
    "seed": dashboard.seed,  # first: the staff rows below read the data it makes
    "dashboard": dashboard.pages,
    "export": dashboard.export,
    "pages": web.pages,
    "banner": web.banner_weight,
    "checkout": checkout.creation,
    "webhooks": webhooks.ingestion,
    "import": importing.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(MEASUREMENTS), help="run just these")
    args = parser.parse_args()
    chosen = args.only or list(MEASUREMENTS)
    started = time.monotonic()
    rows: list[Row] = []
    with bench_schema() as (url, _schema):
        for name in chosen:
            print(f"== {name}", flush=True)
            measured = MEASUREMENTS[name](url)
            rows += measured
            print(table(measured), flush=True)
    elapsed = time.monotonic() - started
    if args.only:
        print(table(rows))
    else:
        print(write(rows, elapsed))


if __name__ == "__main__":
    main()
