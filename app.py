"""Entry point: `flask --app app ...` for commands, `gunicorn app:app` in production."""

import sys

from dotenv import find_dotenv, load_dotenv

# Before importing the package: its config classes read the environment at import.
# An optional .env in the working directory; real environment variables win over it.
load_dotenv(find_dotenv(usecwd=True))

from membership import create_app  # noqa: E402
from membership.config import ConfigError  # noqa: E402

try:
    app = create_app()
except ConfigError as exc:
    # A clear message and a non-zero exit, not a traceback, for a misconfigured deploy.
    # 3 is gunicorn's "worker failed to boot": its master stops instead of respawning forever.
    print(exc, file=sys.stderr)
    raise SystemExit(3) from None
