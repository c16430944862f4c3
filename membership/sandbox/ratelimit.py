"""Stripe's basic rate limiter, for the sandbox: requests per second per account, reads and
writes counted apart, answered past the limit with 429 as Stripe answers.

"Live mode: 100 read operations and 100 write operations; test mode: 25 read operations and
25 write operations" per second (https://docs.stripe.com/rate-limits). The window slides: at
most `per_second` of a kind within any second, by the wall clock, as Stripe's servers see time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from membership.sandbox.errors import StripeError

MODES = {"test": 25, "live": 100}


class RateLimit:
    def __init__(self, per_second: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_second < 1:
            raise ValueError("a rate limit admits at least one request a second")
        self.per_second = per_second
        self.clock = clock
        self.recent: dict[str, deque[float]] = {"read": deque(), "write": deque()}
        self.refused = 0
        self.lock = threading.Lock()

    @classmethod
    def parse(cls, setting: str | int | None) -> RateLimit | None:
        """ "test" or "live" (Stripe's figures), a number per second, or off when empty."""
        if setting in (None, "", 0, "0", "off"):
            return None
        text = str(setting).strip().lower()
        if text in MODES:
            return cls(MODES[text])
        if not text.isdigit():
            raise ValueError(f"a rate limit is test, live or a number per second, not {setting!r}")
        return cls(int(text))

    def admit(self, method: str) -> bool:
        """Count a request; False when the second already holds `per_second` of its kind."""
        kind = "read" if method in ("GET", "HEAD") else "write"
        now = self.clock()
        with self.lock:
            window = self.recent[kind]
            while window and window[0] <= now - 1:
                window.popleft()
            if len(window) >= self.per_second:
                self.refused += 1
                return False
            window.append(now)
            return True


def too_many_requests() -> StripeError:
    """Stripe's 429: code rate_limit. Its `Stripe-Should-Retry: true` header (added where the
    answer is written) is what makes the stripe library retry it, with backoff and jitter."""
    return StripeError(
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        status=429,
        code="rate_limit",
    )
