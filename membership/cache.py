"""A short-lived, per-process memo for read-mostly data that every reader page needs.

Correctness never depends on it: each worker recomputes after CACHE_SECONDS, so a staff
edit to a campaign shows within that time, on every worker, with no shared state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

T = TypeVar("T")
# Keys can come from query strings; past this many, start again rather than grow without end.
MAX_ENTRIES = 1000


def cached(key: str, compute: Callable[[], T]) -> T:
    """compute(), remembered under `key` for CACHE_SECONDS (0 switches it off)."""
    ttl = current_app.config["CACHE_SECONDS"]
    if ttl <= 0:
        return compute()
    store: dict[str, tuple[float, Any]] = current_app.extensions.setdefault("ttl_cache", {})
    now = time.monotonic()
    hit = store.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    # Two threads may both compute on a miss; either result is right.
    value = compute()
    if len(store) >= MAX_ENTRIES:
        store.clear()
    store[key] = (now, value)
    return value
