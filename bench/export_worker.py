"""Run one full donations CSV export in this process and report rows, time and memory.

The app runs here behind the test client, so this is the process serving the export and its
memory is the server's. The peak is reset once staff are signed in (argon2's password check
alone briefly takes 64 MiB), so the export's peak is what the process already holds (the
imported app) plus what the export adds; the whole-process peak, sign-in included, is
reported too.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench.dashboard import STAFF_EMAIL, signed_in_client

STATUS = Path("/proc/self/status")


def status_mb(field: str) -> float | None:
    """VmRSS (resident now) or VmHWM (peak resident) in MB, where Linux reports them."""
    if not STATUS.exists():
        return None
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def peak_mb() -> float:
    """Peak RSS in MB, since the start or since reset_peak()."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Start VmHWM again from the current RSS (Linux >= 4.0: `5` to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def main() -> None:
    database_url = sys.argv[1]
    _app, client = signed_in_client(database_url)
    assert sys.argv[2] == STAFF_EMAIL
    before_mb = status_mb("VmRSS")
    sign_in_peak_mb = peak_mb()  # read first: the reset below lowers ru_maxrss too
    peak_reset = reset_peak()
    started = time.perf_counter()
    response = client.get("/staff/exports/donations.csv", buffered=False)
    assert response.status_code == 200, response.status_code
    lines = 0
    for chunk in response.response:  # the bench data has no line breaks inside cells
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    seconds = time.perf_counter() - started
    export_peak_mb = status_mb("VmHWM") if peak_reset else None
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "seconds": seconds,
                "rss_before_mb": before_mb,
                # None where the peak cannot be reset: then only the whole-process peak is known
                "export_peak_rss_mb": export_peak_mb,
                "process_peak_rss_mb": max(sign_in_peak_mb, peak_mb()),
            }
        )
    )


if __name__ == "__main__":
    main()
