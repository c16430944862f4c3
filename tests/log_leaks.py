"""A pytest plugin: the run fails if any log record holds an email or name the tests handed out.

The service logs no personal data (README). Every record that reaches the root logger during
the run, formatted with its traceback and structured fields, is read here; factories and the
sandbox's pay() register the emails and names they hand out (hand_out). Emails are compared at
the end of the run, so a record logged before the test that made its address still counts.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

# Loose on purpose: anything shaped like an address is looked up among those handed out.
EMAIL_SHAPE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SHORTEST_NAME = 4  # shorter names ("Al") would be found inside ordinary words


@dataclass
class Handed:
    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)


handed = Handed()


def hand_out(email: str | None = None, name: str | None = None) -> None:
    """Remember an email or name a test gave the service, to look for in its logs."""
    if email:
        handed.emails.add(email.strip().lower())
    if name and len(name.strip()) >= SHORTEST_NAME:
        handed.names.add(name.strip().lower())


class LeakTrap(logging.Handler):
    """Reads every record as a log store would get it: message, fields, traceback, stack."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.emails: dict[str, str] = {}  # each address-shaped string seen: where first
        self.names: dict[str, str] = {}  # each handed-out name seen: where first

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{self.format(record)} {getattr(record, 'fields', '')!r}".lower()
        text = text.replace("%40", "@")  # an address in a logged URL
        where = f"{os.environ.get('PYTEST_CURRENT_TEST', 'outside a test')}: {record.name}"
        for email in EMAIL_SHAPE.findall(text):
            self.emails.setdefault(email, where)
        for name in handed.names:
            if name in text:
                self.names.setdefault(name, where)

    def leaks(self) -> list[str]:
        found = {email: where for email, where in self.emails.items() if email in handed.emails}
        found |= self.names
        return [f"{value!r} in a log record from {where}" for value, where in sorted(found.items())]


trap = LeakTrap()


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(trap)
    wrap_sandbox_pay()


def wrap_sandbox_pay() -> None:
    """The sandbox's checkout takes the payer's email and name: hand them out as well."""
    from membership.sandbox import Sandbox

    pay = Sandbox.pay
    if getattr(pay, "hands_out", False):
        return

    signature = inspect.signature(pay)

    def paying(*args: Any, **kwargs: Any) -> Any:
        given = signature.bind(*args, **kwargs)
        given.apply_defaults()
        hand_out(given.arguments["email"], given.arguments["name"])
        return pay(*args, **kwargs)

    paying.hands_out = True  # type: ignore[attr-defined]
    Sandbox.pay = paying  # type: ignore[method-assign]


# Under pytest-xdist (`make test` runs two workers) each worker holds its own trap and sends
# what it found to the controller in `config.workeroutput`, read in xdist's
# `pytest_testnodedown` hook (xdist/newhooks.py). A worker's exit status does not reach the
# controller, so the run is failed there.
worker_leaks: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    worker_leaks.extend(node.workeroutput.get("log_leaks", []))


def all_leaks() -> list[str]:
    return sorted({*trap.leaks(), *worker_leaks})


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    logging.getLogger().removeHandler(trap)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["log_leaks"] = trap.leaks()
    elif all_leaks() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    leaks = all_leaks()
    if not leaks:
        return
    terminalreporter.section("personal data in the logs", sep="=", red=True, bold=True)
    for line in leaks:
        terminalreporter.line(line)
