"""Start real servers for a measurement and always stop them, whatever happens."""

from __future__ import annotations

import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What `gunicorn app:app` reads from the project directory: every server here runs with it.
CONFIG = runpy.run_path(str(ROOT / "gunicorn.conf.py"))


# BENCH_WORKER_CLASS=sync measures gunicorn's one-request-per-process workers instead.
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS") or CONFIG["worker_class"]


def described(workers: int) -> str:
    if WORKER_CLASS == "gthread":
        return f"gunicorn {workers} workers x {CONFIG['threads']} threads"
    return f"gunicorn {workers} {WORKER_CLASS} workers"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    """Poll until the server answers at all (any HTTP status counts as up)."""
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 (loopback)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no answer from {url} within {deadline_s}s")


class Server(str):
    """A server's base URL, which also knows the process group the server runs in."""

    pgid: int


def cpu_ticks(owned_by: Callable[[int, str], bool]) -> dict[int, int]:
    """CPU time (user + system, in clock ticks) used so far by each live process that
    `owned_by(pgid, name)` picks. Read from /proc (Linux): what a server's processes cost,
    whatever else the machine runs."""
    ticks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # After the name: state, ppid, pgrp ... utime (the 12th) and stime (the 13th).
        if owned_by(int(fields[2]), name):
            ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    return ticks


def cpu_spent(before: dict[int, int], after: dict[int, int]) -> float:
    """Seconds of CPU used between two readings by the processes alive at the second; one that
    started meanwhile counts whole, one that ended meanwhile (rare: pools keep them) is lost."""
    spent = sum(now - before.get(pid, 0) for pid, now in after.items())
    return spent / os.sysconf("SC_CLK_TCK")


def in_group(pgid: int) -> Callable[[int, str], bool]:
    return lambda group, _name: group == pgid


def postgres(_group: int, name: str) -> bool:
    return name == "postgres"


@contextmanager
def gunicorn(
    target: str, env: Mapping[str, str], workers: int = 2, probe: str = "/healthz"
) -> Iterator[Server]:
    """`gunicorn target` on a free loopback port; yields its base URL, kills the group after."""
    port = free_port()
    env = {"BASE_URL": f"http://127.0.0.1:{port}", **env}
    command = [
        str(BIN / "gunicorn"),
        target,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--worker-class",
        WORKER_CLASS,
        *(["--threads", "1"] if WORKER_CLASS == "sync" else []),  # else gunicorn makes it gthread
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = Server(f"http://127.0.0.1:{port}")
    base.pgid = process.pid  # start_new_session: the server leads its own process group
    try:
        wait_until_up(base + probe, process)
        yield base
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
