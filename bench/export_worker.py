"""Run one full donations CSV export in this process and report rows, time and peak memory."""

from __future__ import annotations

import json
import resource
import sys
import time

from bench.dashboard import STAFF_EMAIL, signed_in_client


def main() -> None:
    database_url = sys.argv[1]
    _app, client = signed_in_client(database_url)
    assert sys.argv[2] == STAFF_EMAIL
    started = time.perf_counter()
    response = client.get("/staff/exports/donations.csv", buffered=False)
    assert response.status_code == 200, response.status_code
    lines = 0
    for chunk in response.response:
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    seconds = time.perf_counter() - started
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": lines - 1, "seconds": seconds, "max_rss_mb": max_rss_mb}))


if __name__ == "__main__":
    main()
