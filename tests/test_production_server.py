"""The documented production path: `flask db upgrade`, then `gunicorn app:app`, answers /healthz."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "APP_", "FLASK", "SECRET"))
    }
    return {
        **env,
        "APP_ENV": "production",
        "SECRET_KEY": "f" * 64,
        "STRIPE_SECRET_KEY": "sk_test_not_a_real_key_for_tests",
        "STRIPE_WEBHOOK_SECRET": "whsec_not_a_real_secret_for_tests",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        **extra,
    }


def wait_for_json(url: str, process: subprocess.Popen, deadline_s: float = 60) -> tuple[int, dict]:
    """Poll until the server answers (readiness, not timing: the assertion is on the answer)."""
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited early: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url} within {deadline_s}s")


@dataclass
class Served:
    port: int
    health: tuple[int, dict] = field(default=(0, {}))  # /healthz's first answer
    log: str = ""  # gunicorn's output, once it has stopped


@contextmanager
def migrated_gunicorn(env: dict[str, str]) -> Iterator[Served]:
    """Migrate the database `env` names, serve app:app under gunicorn until the block ends and
    it is ready (its /healthz answered), then stop it and keep what it printed."""
    subprocess.run(
        [BIN / "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    served = Served(free_port())
    server = subprocess.Popen(
        [BIN / "gunicorn", "app:app", "--bind", f"127.0.0.1:{served.port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        served.health = wait_for_json(f"http://127.0.0.1:{served.port}/healthz", server)
        yield served
    finally:
        server.terminate()
        _, served.log = server.communicate(timeout=30)


def test_gunicorn_serves_the_migrated_app(tmp_path):
    env = production_env(tmp_path, WEB_CONCURRENCY="2", GUNICORN_THREADS="3")
    with migrated_gunicorn(env) as served:
        status, body = served.health
        assert (status, body) == (200, {"status": "ok", "database": "ok", "schema": "current"})
    log = served.log
    # gunicorn.conf.py, which gunicorn reads from the working directory: threaded workers, as
    # many as asked for, and no access log (it would write full URLs).
    assert "Using worker: gthread" in log
    assert log.count("Booting worker with pid") == 2
    assert "GET /healthz" not in log


@pytest.mark.parametrize("unset", ["SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_gunicorn_refuses_to_boot_a_misconfigured_production_app(tmp_path, unset):
    env = production_env(tmp_path)
    env.pop(unset)
    result = subprocess.run(
        [BIN / "gunicorn", "app:app", "--bind", f"127.0.0.1:{free_port()}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{unset} is not set" in result.stderr


def test_each_worker_freezes_what_loading_the_app_made():
    """Objects alive once the app is loaded live as long as the worker: the garbage collector's
    full passes need not walk them (gunicorn.conf.py, post_worker_init)."""
    import gc
    import runpy

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    before = gc.get_freeze_count()
    try:
        settings["post_worker_init"](SimpleNamespace(age=2, wsgi=None, sockets=[]))
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
