"""Browsers a staff member has signed in on, so that others' guesses cannot lock them out.

The sign-in throttles count failed passwords per account and per address. Anyone can fail
five times at an admin's email; if that refused the admin too, a stranger could keep them out
for as long as they cared to keep guessing. So a successful sign-in leaves a signed cookie,
bound to the account: a browser that carries one is judged by its own failures only (its own
limit, LOGIN_RATE_LIMIT_ACCOUNT), and everyone else by the account's and the address's limits.
This is OWASP's "device cookie" defence:
https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from membership.dashboard.staff.services import normalise_email

COOKIE = "staff_device"
SALT = "staff-device"
MAX_AGE = 180 * 24 * 3600  # renewed at every sign-in; a browser unused for half a year is new


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def account_tag(email: str) -> str:
    """Which account a cookie is for, without the email itself in the cookie: a keyed hash."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()[:32]


def remember(response: Response, email: str) -> None:
    """After a sign-in: this browser is now one of the account's."""
    value = serializer().dumps({"account": account_tag(email), "device": secrets.token_hex(16)})
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path=url_for("dashboard.login"),  # sent with the sign-in form only
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Strict",
    )


def known_device() -> str | None:
    """This browser's id, if it carries a valid cookie for the account being signed in to."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("device"), str):
        return None
    submitted = request.form.get("email", "")[:320]
    return data["device"] if data.get("account") == account_tag(submitted) else None


def is_known() -> bool:
    return known_device() is not None


def is_unknown() -> bool:
    return known_device() is None


def device_key() -> str:
    """The rate-limit key for a known browser's own failures."""
    return f"staff-device:{known_device()}"
