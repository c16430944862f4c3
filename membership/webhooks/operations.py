"""Replay and reconcile: run stored or missed Stripe events through the same handlers again."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

from flask import current_app

from membership import stripe_api
from membership.extensions import db
from membership.models import StripeEvent
from membership.webhooks import erased, inbox
from membership.webhooks.handlers import HANDLERS

UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_window(text: str) -> timedelta:
    """ "3d", "12h" or "90m" as a timedelta, capped at Stripe's 30 days of event history."""
    match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text)
    if not match:
        raise ValueError(f"expected a window like 3d, 12h or 90m, got {text!r}")
    window = timedelta(**{UNITS[match[2]]: int(match[1])})
    return min(window, timedelta(days=current_app.config["STRIPE_RECONCILE_MAX_DAYS"]))


def replay(event_id: str) -> inbox.Outcome:
    """Run one event again, fetching it from Stripe if it never reached the inbox."""
    if db.session.get(StripeEvent, event_id) is None:
        delivery = erased.guard(stripe_api.retrieve_event(event_id))
        inbox.store(delivery.stored)
        return inbox.process(event_id, force=True, delivery=delivery)
    return inbox.process(event_id, force=True)


def replay_failed() -> Counter[str]:
    """Run every stored event that has not been applied yet, oldest first."""
    return Counter(inbox.process(event_id).value for event_id in inbox.unprocessed_ids())


def reconcile(window: timedelta) -> Counter[str]:
    """Ask Stripe for the window's events of handled types; apply those missing or failed."""
    since = int(time.time() - window.total_seconds())
    outcomes: Counter[str] = Counter()
    for payload in stripe_api.list_events(since, sorted(HANDLERS)):
        if inbox.is_processed(payload["id"]):
            outcomes["already processed"] += 1
            continue
        outcomes[inbox.receive(payload).value] += 1
    return outcomes
