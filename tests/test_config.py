"""Configuration: zero-config development, and a production config that refuses unsafe settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from membership import create_app, normalise_database_url
from membership.config import ConfigError, ProductionConfig

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "0123456789abcdef" * 4
GOOD = {
    "SECRET_KEY": GOOD_SECRET,
    "STRIPE_SECRET_KEY": "sk_test_not_a_real_key_for_tests",
    "STRIPE_WEBHOOK_SECRET": "whsec_not_a_real_secret_for_tests",
    "DEBUG": False,
}


def production(**settings) -> type[ProductionConfig]:
    return type(
        "Prod", (ProductionConfig,), {**GOOD, "SQLALCHEMY_DATABASE_URI": "sqlite://", **settings}
    )


def test_production_config_with_safe_settings_starts_with_secure_cookies():
    app = create_app(production())
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["DEBUG"] is False


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short-but-not-default"}, "shorter than 32 bytes"),
        ({"SECRET_KEY": "you-will-never-guess"}, "well-known default"),
        ({"SECRET_KEY": "development-only-not-a-secret-key-0000"}, "well-known default"),
        ({"DEBUG": True}, "DEBUG must be off"),
        ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY is not set"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET is not set"),
    ],
)
def test_production_refuses_unsafe_settings(settings, message):
    with pytest.raises(ConfigError, match=message):
        create_app(production(**settings))


def test_production_lists_every_problem_at_once():
    with pytest.raises(ConfigError) as info:
        create_app(production(SECRET_KEY=None, STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None))
    text = str(info.value)
    assert text.count("\n  - ") == 3
    assert "secrets.token_hex(32)" in text


def run_app_import(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Import app.py in a fresh interpreter, as gunicorn and `flask` do."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "SECRET", "APP_", "DATABASE", "FLASK"))
    }
    return subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_process_exits_non_zero_with_a_clear_message(tmp_path):
    result = run_app_import({"APP_ENV": "production", "DATABASE_URL": "sqlite://"}, tmp_path)
    assert result.returncode == 3
    assert "Refusing to start in production" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr
    assert "STRIPE_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_variables_configure_the_app(tmp_path):
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": GOOD_SECRET,
        "STRIPE_SECRET_KEY": "sk_test_not_a_real_key_for_tests",
        "STRIPE_WEBHOOK_SECRET": "whsec_not_a_real_secret_for_tests",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "PUBLICATION_NAME": "Kyiv Ledger",
        "BASE_URL": "https://give.example.org/",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "MAIL_SERVER": "smtp.example.org",
    }
    code = (
        "import app, json; c = app.app.config; print(json.dumps([c['ENV_NAME'], "
        "c['PUBLICATION_NAME'], c['BASE_URL'], c['RATELIMIT_STORAGE_URI'], c['MAIL_SERVER'], "
        "c['SQLALCHEMY_DATABASE_URI']]))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "APP_", "FLASK"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    import json

    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "production",
        "Kyiv Ledger",
        "https://give.example.org",
        "redis://127.0.0.1:6379/0",
        "smtp.example.org",
        f"sqlite:///{tmp_path / 'prod.db'}",
    ]


def test_dotenv_file_is_read_and_real_environment_wins(tmp_path):
    (tmp_path / ".env").write_text(
        "PUBLICATION_NAME=From Dotenv\nBASE_URL=https://dotenv.example\n"
    )
    code = "import app; print(app.app.config['PUBLICATION_NAME'], app.app.config['BASE_URL'])"
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "APP_", "FLASK", "PUBLICATION", "BASE_URL"))
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={
            **clean,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": "sqlite://",
            "BASE_URL": "https://env.example",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "From Dotenv https://env.example"


def test_development_needs_no_configuration_and_uses_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from membership.config import DevelopmentConfig

    config = type("Dev", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": None})
    app = create_app(config)
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{ROOT / 'instance' / 'membership.db'}"
    )
    assert app.config["SECRET_KEY"]


def test_unknown_app_env_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigError, match="APP_ENV must be one of"):
        create_app()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_from_hosting_providers_use_psycopg3(given, expected):
    assert normalise_database_url(given) == expected
