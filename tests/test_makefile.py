"""The README's make targets, read with `make -n` (print the commands, run none) on a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(directory: Path, *args: str, **env: str) -> str:
    """`make -n ARGS` in a copy of the Makefile's folder, without this shell's BASE_URL."""
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        if not (directory / name).exists():
            shutil.copy(ROOT / name, directory / name)
    clean = {k: v for k, v in os.environ.items() if k not in ("BASE_URL", "HOST", "PORT")}
    result = subprocess.run(
        ["make", "-n", *args],
        cwd=directory,
        env={**clean, "MAKEFLAGS": "", **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def serve_line(output: str) -> str:
    [line] = [line for line in output.splitlines() if "flask run" in line]
    return line


def test_make_run_derives_base_url_from_host_and_port(tmp_path):
    line = serve_line(dry_run(tmp_path, "run", "PORT=5180"))
    assert line == "BASE_URL=http://127.0.0.1:5180 .venv/bin/flask run --host 127.0.0.1 --port 5180"
    assert serve_line(dry_run(tmp_path, "run")).startswith("BASE_URL=http://127.0.0.1:5000 ")
    # Served on every address, it is opened here through the loopback address.
    every = serve_line(dry_run(tmp_path, "run", "HOST=0.0.0.0", "PORT=5181"))
    assert every.startswith("BASE_URL=http://127.0.0.1:5181 ")


@pytest.mark.parametrize("where", ["environment", "command line", ".env"])
def test_a_base_url_that_is_set_wins(tmp_path, where):
    args, env = ["run", "PORT=5180"], {}
    if where == "environment":
        env["BASE_URL"] = "https://give.example.org"
    elif where == "command line":
        args.append("BASE_URL=https://give.example.org")
    else:
        (tmp_path / ".env").write_text("BASE_URL=https://give.example.org\n")
    line = serve_line(dry_run(tmp_path, *args, **env))
    assert line == ".venv/bin/flask run --host 127.0.0.1 --port 5180"


def test_make_admin_creates_an_admin_after_migrating(tmp_path):
    output = dry_run(tmp_path, "admin", "EMAIL=you@newsroom.org")
    assert ".venv/bin/flask db upgrade" in output
    assert '.venv/bin/flask staff create "you@newsroom.org" --role admin' in output


def test_make_demo_seeds_after_migrating(tmp_path):
    output = dry_run(tmp_path, "demo")
    assert output.index(".venv/bin/flask db upgrade") < output.index(".venv/bin/flask demo seed")
    assert ".venv/bin/flask demo seed --members 50" in dry_run(tmp_path, "demo", "MEMBERS=50")
