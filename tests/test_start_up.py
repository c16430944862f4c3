"""What a starting server prints: one demo-mode line saying where to go (under `flask run` and
gunicorn, not other commands), and JSON log lines without terminal colour codes."""

from __future__ import annotations

import gc
import io
import logging
import os
import runpy
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import FlaskGroup
from werkzeug.serving import make_server

from membership import create_app
from membership.extensions import db
from membership.logs import JsonFormatter
from membership.mail import outbox
from tests.conftest import empty_tables
from tests.factories import make_member
from tests.test_production_server import ROOT, migrated_gunicorn

FIRST_LINE = "Demo mode: no real money moves. Open http://127.0.0.1:{port}/"


@pytest.fixture
def served(monkeypatch) -> list[int]:
    """The ports `flask run` served on: its server returns at once."""
    ports: list[int] = []
    monkeypatch.setattr("flask.cli.run_simple", lambda _host, port, *_a, **_k: ports.append(port))
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    return ports


@pytest.fixture
def flask_cli(database, served):
    """`flask` as the shell runs it, on the test database: (its result, the app it built)."""
    made: list[Flask] = []

    def invoke(*args: str, **config: object):
        def build() -> Flask:
            made.append(create_app(database.config(**config)))
            return made[-1]

        group = FlaskGroup(create_app=build)
        group.load_dotenv = False  # this checkout's .env is not the test's
        return CliRunner().invoke(group, list(args)), made[-1]

    yield invoke
    for app in made:
        with app.app_context():
            db.session.remove()
            empty_tables()
            db.engine.dispose()


def test_flask_run_says_where_to_give_sign_in_and_read_email(flask_cli, served, capsys):
    result, app = flask_cli("run", "--port", "5180", BASE_URL="http://127.0.0.1:5180")
    assert result.exit_code == 0, result.output
    assert served == [5180]
    lines = result.stderr.splitlines()
    assert lines[0].startswith(FIRST_LINE.format(port=5180))
    assert "4242 4242 4242 4242" in lines[0]
    assert "http://127.0.0.1:5180/staff/login" in result.stderr
    assert "make admin EMAIL=" in result.stderr
    assert "http://127.0.0.1:5180/sandbox/mailbox" in result.stderr
    assert result.stderr.count("Demo mode:") == 1
    assert "BASE_URL" not in result.stderr  # it names this server: nothing to warn about
    with app.app_context():  # and each email it would send gets a line
        queue_receipt("served@example.org")
    err = capsys.readouterr().err
    assert "(receipt): http://127.0.0.1:5180/sandbox/mailbox/" in err
    assert "served@example.org" not in err  # no address in the output


def test_flask_run_warns_when_base_url_names_another_server(flask_cli):
    result, _ = flask_cli("run", "--port", "5181", BASE_URL="http://127.0.0.1:5000")
    assert "BASE_URL is http://127.0.0.1:5000" in result.stderr


def test_with_a_mail_server_there_is_no_mailbox_to_point_at(flask_cli):
    result, _ = flask_cli("run", "--port", "5180", MAIL_SERVER="127.0.0.1")
    assert result.stderr.startswith(FIRST_LINE.format(port=5180))
    assert "/sandbox/mailbox" not in result.stderr and "MAIL_SERVER" in result.stderr


@pytest.mark.parametrize(
    "args, config",
    [
        (("check-schema",), {}),  # any other command
        (("run", "--port", "5180"), {"STRIPE_SECRET_KEY": "sk_test_not_a_real_key"}),
    ],
    ids=["other-command", "not-demo-mode"],
)
def test_no_demo_line_for_other_commands_or_outside_demo_mode(flask_cli, args, config):
    result, _ = flask_cli(*args, **config)
    assert "Demo mode" not in result.output


def test_the_reloaders_child_stays_quiet(flask_cli, monkeypatch):
    """With --reload the app is loaded twice, by the watcher and its child: one line."""
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    result, _ = flask_cli("run", "--port", "5180")
    assert "Demo mode" not in result.output


def test_gunicorns_first_worker_says_it_and_every_worker_echoes_its_emails(make_app, capsys):
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    first, second = make_app(), make_app()
    live = make_app(STRIPE_SECRET_KEY="sk_test_not_a_real_key")
    capsys.readouterr()
    try:
        for age, app in ((1, first), (2, second), (1, live)):
            worker = SimpleNamespace(age=age, wsgi=app, sockets=["http://0.0.0.0:8000"])
            settings["post_worker_init"](worker)
    finally:
        gc.unfreeze()
    err = capsys.readouterr().err
    assert err.startswith(FIRST_LINE.format(port=8000))  # every address: opened locally
    assert err.count("Demo mode") == 1
    for app, address in ((second, "second@example.org"), (live, "live@example.org")):
        with app.app_context():
            queue_receipt(address)
    err = capsys.readouterr().err
    # One line, the demo worker's: the live one prints none (and neither names anyone).
    assert err.count("Email #") == 1 and "@example.org" not in err


def queue_receipt(address: str) -> None:
    outbox.enqueue(make_member(email=address), "receipt", f"receipt:{address}", {})
    db.session.commit()


def test_gunicorn_in_demo_mode_prints_the_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "APP_", "MAIL_"))}
    env |= {
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "SANDBOX_STATE": "memory",
        "WEB_CONCURRENCY": "1",  # so the worker that answers is the one that speaks
        "GUNICORN_THREADS": "2",
    }
    with migrated_gunicorn(env) as served:
        assert served.health[0] == 200
    log, port = served.log, served.port
    assert log.count(FIRST_LINE.format(port=port)) == 1


def test_json_log_lines_carry_no_terminal_colour_codes():
    """werkzeug colours its start-up warning; the JSON log line must not carry the codes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    raw: list[str] = []
    handler.addFilter(lambda record: raw.append(record.getMessage()) or True)
    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_log.addHandler(handler)
    previous = werkzeug_log.level
    werkzeug_log.setLevel(logging.INFO)
    server = make_server("127.0.0.1", 0, lambda environ, start_response: [])
    try:
        server.log_startup()
    finally:
        server.server_close()
        werkzeug_log.removeHandler(handler)
        werkzeug_log.setLevel(previous)
    assert any("\x1b[" in message for message in raw)  # what werkzeug logged
    written = stream.getvalue()
    assert "Running on http://127.0.0.1:" in written
    assert "\x1b[" not in written and "\\u001b[" not in written
