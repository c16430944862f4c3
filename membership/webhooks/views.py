"""POST /stripe/webhook: verify Stripe's signature on the raw body, then hand over to the inbox."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from typing import Any, NoReturn

import stripe
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from membership.extensions import csrf, unlimited
from membership.webhooks import events, inbox
from membership.webhooks.handlers import HANDLERS

bp = Blueprint("webhooks", __name__)
log = logging.getLogger("membership.webhooks")
# How JSON writes a NUL or a surrogate: only a body holding one is searched string by string.
UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|d[89a-f][0-9a-f]{2})", re.IGNORECASE)


class InvalidEvent(ValueError):
    """Not a genuine, fresh, well-formed Stripe event."""


@bp.post("/stripe/webhook")
@csrf.exempt
@unlimited  # Stripe's retries must never meet a 429
def receive() -> ResponseReturnValue:
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        log.error("STRIPE_WEBHOOK_SECRET is not set; refusing webhooks so Stripe retries")
        return jsonify(error="webhook secret not configured"), 500
    try:
        payload = verified_event(
            request.get_data(), request.headers.get("Stripe-Signature"), secret
        )
    except InvalidEvent as exc:
        log.warning("webhook refused", extra={"fields": {"reason": str(exc)}})
        return jsonify(error="invalid webhook"), 400
    outcome = inbox.receive(payload)
    status = 500 if outcome is inbox.Outcome.FAILED else 200
    return jsonify(received=True, outcome=outcome.value), status


def verified_event(body: bytes, header: str | None, secret: str) -> dict[str, Any]:
    """The event as JSON, if the signature over these exact bytes is ours and recent, and the
    inbox can store it and its handler read it: refused before anything is written."""
    if not header:
        raise InvalidEvent("missing Stripe-Signature header")
    tolerance = current_app.config["STRIPE_WEBHOOK_TOLERANCE"]
    try:
        stripe.WebhookSignature.verify_header(body.decode("utf-8"), header, secret, tolerance)
        payload = json.loads(body, parse_constant=not_a_number, parse_float=finite)
    except stripe.SignatureVerificationError as exc:
        raise InvalidEvent("bad signature") from exc
    except (ValueError, RecursionError) as exc:  # also UnicodeDecodeError and JSONDecodeError
        raise InvalidEvent("body is not JSON") from exc
    # verify_header refuses only signatures older than the tolerance; Stripe's PHP library
    # allows that much difference either way ("maximum difference allowed between the header's
    # timestamp and the current time", https://github.com/stripe/stripe-php/blob/master/lib/
    # WebhookSignature.php). One dated ahead is refused too: it could be kept to use later.
    if tolerance and signed_at(header) > time.time() + tolerance:
        raise InvalidEvent("signature dated in the future")
    problem = events.payload_problem(payload)
    if problem is None and UNSTORABLE_ESCAPE.search(body) and events.unstorable_text(payload):
        problem = "NUL or lone surrogate in a string"
    if problem is None and payload["type"] in HANDLERS:
        problem = events.object_problem(payload["type"], payload["data"]["object"])
    if problem is not None:
        raise InvalidEvent(problem)
    return payload


def signed_at(header: str) -> int:
    """The header's first t=, the one verify_header checked the signature with."""
    for item in header.split(","):
        parts = item.split("=", 2)  # as stripe-python reads it
        if parts[0] == "t":
            return int(parts[1])
    raise InvalidEvent("no timestamp")


def finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: JSON stored in PostgreSQL holds no infinity
        raise ValueError("number out of range")
    return value


def not_a_number(text: str) -> NoReturn:
    raise ValueError(f"{text} is not JSON")
