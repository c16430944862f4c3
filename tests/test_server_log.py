"""gunicorn's own error log, with the project's gunicorn.conf.py: no client addresses in it."""

from __future__ import annotations

import runpy
import socket
import subprocess
import time

from tests.test_production_server import BIN, ROOT, free_port, production_env

CLIENT = "127.0.0.1"


def answer_to(port: int, raw: bytes, process: subprocess.Popen, deadline_s: float = 60) -> bytes:
    """Send raw bytes once the server listens (polling for readiness; nothing is timed)."""
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        assert process.poll() is None, "server exited early"
        try:
            with socket.create_connection((CLIENT, port), timeout=10) as conn:
                conn.sendall(raw)
                return conn.recv(4096)
        except ConnectionRefusedError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on {port} within {deadline_s}s")


def test_a_malformed_request_leaves_no_client_address_in_the_log(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [BIN / "gunicorn", "app:app", "--bind", f"{CLIENT}:{port}"],
        cwd=ROOT,
        env={**production_env(tmp_path), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = answer_to(port, b"NOT AN HTTP REQUEST LINE\r\n\r\n", server)
    finally:
        server.terminate()
        out, log = server.communicate(timeout=30)
    assert answer.startswith(b"HTTP/1.1 400")
    assert "Invalid request from ip=[address]" in log  # the line is there, without its address
    assert CLIENT not in log + out


def test_addresses_of_both_kinds_are_taken_out_and_times_left_alone():
    redact = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["without_addresses"]
    line = "[2026-12-02 15:35:24 +0000] Invalid PROXY line: 'PROXY TCP6 2001:db8::7 ::1 5 80'"
    assert redact(line) == (
        "[2026-12-02 15:35:24 +0000] Invalid PROXY line: 'PROXY TCP6 [address] [address] 5 80'"
    )
    assert redact("from ip=203.0.113.9: bad") == "from ip=[address]: bad"
