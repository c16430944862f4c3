"""After Checkout: the way back to the article, and the way on to managing the gift.

The thanks page links to the donor sign-in page with the address given to Stripe already
filled in, and the address is never in a URL, nor in the thanks page itself. Both of the
pages' URLs are known to more than the donor: `/thanks?session_id=...` and
`/give/cancelled/<reference>` end up in access logs and browser history, so anything a
URL leads to is as public as the URL. A hidden field with the address on the thanks page,
or a sign-in page that looks the address up by a reference sent in a form, would both hand
the address to whoever replays the URL from a log.

So the claim lives in the browser that gave, in the signed session cookie: posting the
donation form records the attempt's reference (`remember_start`); the thanks page, for a
paid session of that same attempt, turns it into a short-lived claim (`confirm_paid`); the
sign-in page asks Stripe for that checkout's address only under a live claim
(`claimed_email`), and asking for the link ends it (`forget`). Another browser opening the
same thanks URL gets the same page and an empty sign-in form. The cookie holds only the
opaque reference, never the address; the sign-in page is `no-store` (account/views.py),
and the link is still requested by the existing form, with its CSRF token and rate limits.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, session

from membership import stripe_api
from membership.extensions import db
from membership.models import CheckoutAttempt

STARTED = "gift_started"
PAID = "gift_paid"
# Long enough to read the thanks page and follow its link; short enough that the next
# person at a shared computer does not find the address in the form.
CLAIM_SECONDS = 30 * 60


def attempt_for(session_id: str) -> CheckoutAttempt | None:
    return db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.stripe_checkout_session_id == session_id)
    )


def remember_start(reference: str) -> None:
    """This browser posted the form that opened the attempt `reference`."""
    session[STARTED] = reference


def confirm_paid(attempt: CheckoutAttempt) -> None:
    """Stripe says the attempt is paid: if this browser started it, its sign-in may be prefilled."""
    if session.get(STARTED) != attempt.reference:
        return
    session.pop(STARTED)
    session[PAID] = {"ref": attempt.reference, "at": int(time.time())}


def claimed_email() -> str | None:
    """The address Stripe has for the checkout this browser just paid, or None."""
    claim = session.get(PAID)
    if not isinstance(claim, dict) or not isinstance(claim.get("ref"), str):
        return None
    if time.time() - float(claim.get("at") or 0) > CLAIM_SECONDS:
        forget()
        return None
    attempt = db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.reference == claim["ref"])
    )
    if attempt is None or not attempt.stripe_checkout_session_id:
        return None
    try:
        checkout = stripe_api.retrieve_checkout(attempt.stripe_checkout_session_id)
    except stripe_api.PaymentProviderError:
        return None  # an empty form still works; the donor types the address
    if checkout is None or checkout.status != "complete":
        return None
    email = (checkout.to_dict().get("customer_details") or {}).get("email")
    return email if isinstance(email, str) and email else None


def forget() -> None:
    session.pop(PAID, None)


def way_back(attempt: CheckoutAttempt | None) -> str | None:
    """The page the reader came from, when it is on the newsroom's own site (ARTICLE_HOSTS)."""
    if attempt is None:
        return None
    for url in (attempt.article_url, attempt.referrer):
        if url and on_newsroom_site(url):
            return url
    return None


def on_newsroom_site(url: str) -> bool:
    """An http(s) URL on a configured article host: recorded attribution may predate the list,
    or have been recorded with none, so it is checked again before it becomes a link."""
    hosts = current_app.config["ARTICLE_HOSTS"]
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, say
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return False
    host = parts.hostname.lower()
    return any(host == h or host.endswith("." + h) for h in hosts)
