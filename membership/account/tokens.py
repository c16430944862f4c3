"""Sign-in links and donor sessions, both tied to Member.login_nonce so one rotation ends both."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from flask import current_app, session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from membership.extensions import db
from membership.models import Member

SALT = "donor-sign-in-link"
# The donor's session lives under this one key; staff sessions (Flask-Login) never read it.
SESSION_KEY = "donor"


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def ensure_nonce(member: Member) -> str:
    """The member's current nonce; made on first use (links asked for later share it)."""
    if not member.login_nonce:
        member.login_nonce = secrets.token_urlsafe(24)
    return member.login_nonce


def rotate_nonce(member: Member) -> str:
    member.login_nonce = secrets.token_urlsafe(24)
    return member.login_nonce


# A link asked for on the sign-in page is used at once; one in a failed-payment email may be
# opened days later, so it lives longer (and, like every link, works only once).
CARD_PURPOSE = "card"


def lifetime_seconds(purpose: str | None) -> int:
    if purpose == CARD_PURPOSE:
        return int(current_app.config["CARD_LINK_HOURS"]) * 3600
    return int(current_app.config["DONOR_LINK_MINUTES"]) * 60


def make_token(member: Member, purpose: str | None = None) -> str:
    data = {"m": member.public_id, "n": ensure_nonce(member)}
    return serializer().dumps(data | ({"p": purpose} if purpose else {}))


def link_member(token: str) -> Member | None:
    """The member a valid, unexpired, unused link is for; None for anything else."""
    longest = max(lifetime_seconds(None), lifetime_seconds(CARD_PURPOSE))
    try:
        data, signed_at = serializer().loads(token, max_age=longest, return_timestamp=True)
    except BadSignature:  # also SignatureExpired, its subclass
        return None
    if not isinstance(data, dict) or not isinstance(data.get("m"), str):
        return None
    age = time.time() - signed_at.timestamp()
    if age > lifetime_seconds(data.get("p")):
        return None
    member = db.session.scalar(select(Member).where(Member.public_id == data["m"]))
    if member is None or member.erased_at is not None or not member.login_nonce:
        return None
    if not hmac.compare_digest(member.login_nonce, str(data.get("n", ""))):
        return None
    return member


def session_version(nonce: str) -> str:
    """What the cookie holds instead of the nonce itself (a copy of the cookie is no link)."""
    return hashlib.sha256(f"donor-session:{nonce}".encode()).hexdigest()[:32]


def start_session(member: Member) -> None:
    """Burn the link (and any other outstanding one) and sign this browser in, afresh."""
    nonce = rotate_nonce(member)
    # A new session from nothing: nothing set before sign-in survives (session fixation).
    session.clear()
    now = int(time.time())
    session[SESSION_KEY] = {"id": member.public_id, "v": session_version(nonce), "at": now}
    session[SESSION_KEY + "_seen"] = now


def end_session(member: Member | None) -> None:
    """Sign out here and everywhere: a rotated nonce voids any copy of the cookie."""
    if member is not None:
        rotate_nonce(member)
    session.pop(SESSION_KEY, None)
    session.pop(SESSION_KEY + "_seen", None)


def current_donor(now: float | None = None) -> Member | None:
    """The signed-in donor, checked against the database and both time limits on every call."""
    state: Any = session.get(SESSION_KEY)
    if not isinstance(state, dict):
        return None
    now = time.time() if now is None else now
    seen = session.get(SESSION_KEY + "_seen")
    config = current_app.config
    too_old = not isinstance(state.get("at"), int) or (
        now - state["at"] > config["DONOR_SESSION_HOURS"] * 3600
    )
    idle = not isinstance(seen, int) or now - seen > config["DONOR_IDLE_MINUTES"] * 60
    member = db.session.scalar(select(Member).where(Member.public_id == str(state.get("id"))))
    valid = (
        member is not None
        and member.erased_at is None
        and member.login_nonce is not None
        and hmac.compare_digest(session_version(member.login_nonce), str(state.get("v", "")))
    )
    if too_old or idle or not valid:
        end_session(None)
        return None
    session[SESSION_KEY + "_seen"] = int(now)
    return member
