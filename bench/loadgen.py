"""Load from wrk (Debian's package), a second process on loopback, parsed into numbers."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
# wrk waits `delay()` ms before each request on a connection: this paces the offered rate.
PACED_SCRIPT = "function delay() return {delay_ms} end\n"


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def require_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench does this)")
    return found


def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def wrk(
    url: str, seconds: int = 10, connections: int = 16, threads: int = 2, rate: float | None = None
) -> Load:
    """Closed-loop load at full speed, or about `rate` requests/s spread over the connections."""
    command = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    with tempfile.TemporaryDirectory() as tmp:
        if rate:
            script = Path(tmp) / "paced.lua"
            script.write_text(PACED_SCRIPT.format(delay_ms=int(1000 * connections / rate)))
            command[1:1] = ["-s", str(script)]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=to_ms(latency["50"]),
        p99_ms=to_ms(latency["99"]),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
    )
