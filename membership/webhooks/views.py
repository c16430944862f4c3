"""POST /stripe/webhook: verify Stripe's signature on the raw body, then hand over to the inbox."""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from membership.extensions import csrf, unlimited
from membership.webhooks import inbox

bp = Blueprint("webhooks", __name__)
log = logging.getLogger("membership.webhooks")


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
    """The event as JSON, if the signature over these exact bytes is ours and recent."""
    if not header:
        raise InvalidEvent("missing Stripe-Signature header")
    tolerance = current_app.config["STRIPE_WEBHOOK_TOLERANCE"]
    try:
        stripe.WebhookSignature.verify_header(body.decode("utf-8"), header, secret, tolerance)
        payload = json.loads(body)
    except stripe.SignatureVerificationError as exc:
        raise InvalidEvent("bad signature") from exc
    except ValueError as exc:  # also UnicodeDecodeError and JSONDecodeError
        raise InvalidEvent("body is not JSON") from exc
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("id"), str)
        and isinstance(payload.get("type"), str)
        and isinstance(payload.get("created"), int)
        and isinstance((payload.get("data") or {}).get("object"), dict)
    ):
        raise InvalidEvent("not an event")
    return payload
