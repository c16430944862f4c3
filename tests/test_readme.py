"""The README's instructions for the Stripe dashboard name every event type the service applies."""

from __future__ import annotations

from pathlib import Path

from membership.webhooks.handlers import HANDLERS

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_events_to_send_are_every_handled_type():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Events to send**") : text.index("**API version of the endpoint**")]
    listed = {part.strip(" \n`.,") for part in section.split("`")[1::2]}
    assert listed == set(HANDLERS)
