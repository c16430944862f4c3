"""`flask outbox ...`: send what is due (once, or as a long-running worker), queue reminders."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from datetime import UTC, date, datetime
from types import FrameType

import click
from flask import current_app


@click.group("outbox")
def outbox_cli() -> None:
    """Emails: send the outbox, queue card-expiry reminders."""


@outbox_cli.command("send")
@click.option("--forever", is_flag=True, help="Keep sending; wait --poll seconds when idle.")
@click.option("--batch", type=click.IntRange(min=1), help="Emails per pass [OUTBOX_BATCH_SIZE].")
@click.option("--poll", type=click.FloatRange(min=0), help="Idle wait [OUTBOX_POLL_SECONDS].")
@click.option("--max-loops", type=click.IntRange(min=1), help="Stop after this many passes.")
def send(forever: bool, batch: int | None, poll: float | None, max_loops: int | None) -> None:
    """Send the emails that are due, retrying failures on a schedule (SMTP, or the log)."""
    from membership.mail.sender import send_due

    batch = batch or current_app.config["OUTBOX_BATCH_SIZE"]
    poll = current_app.config["OUTBOX_POLL_SECONDS"] if poll is None else poll
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    # A deploy's SIGTERM lets the email in hand finish instead of cutting it mid-send.
    previous = signal.signal(signal.SIGTERM, stop) if forever else None
    total: Counter[str] = Counter()
    loops = 0
    try:
        while not stopping.is_set():
            outcomes = send_due(batch, stop=stopping.is_set)
            total.update(outcomes)
            loops += 1
            if not forever or (max_loops and loops >= max_loops):
                break
            if sum(outcomes.values()) < batch:
                stopping.wait(poll)  # idle: a sleep that SIGTERM cuts short
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    click.echo(" ".join(f"{name}: {total[name]}" for name in ("sent", "retry", "failed")))


@outbox_cli.command("card-expiry")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Pretend it is this date.")
def card_expiry(today: datetime | None) -> None:
    """Queue reminders for recurring gifts whose card expires this month or next (run daily)."""
    from membership.mail.card_expiry import queue_card_expiry

    day: date = today.date() if today else datetime.now(UTC).date()
    click.echo(f"queued: {queue_card_expiry(day)}")
