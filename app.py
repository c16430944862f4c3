"""Entry point: `flask --app app ...` for commands, `gunicorn app:app` in production."""

import sys

from dotenv import load_dotenv

from membership import create_app
from membership.config import ConfigError

load_dotenv()  # an optional .env beside this file; real environment variables win

try:
    app = create_app()
except ConfigError as exc:
    # A clear message and a non-zero exit, not a traceback, for a misconfigured deploy.
    print(exc, file=sys.stderr)
    raise SystemExit(2) from None
