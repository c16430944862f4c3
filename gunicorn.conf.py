"""gunicorn's settings for this app, read by `gunicorn app:app` from this directory.

Threads carry the concurrency, not processes. A request that calls Stripe (starting a
checkout, a webhook handler reading the objects it names) waits on the network for each call,
about 100 ms from a data centre, without using a CPU. A sync worker is stuck for all that
time, so a few sync workers queue every reader and every webhook behind a handful of Stripe
calls: at 140 webhooks/s two of them fell further behind every second (README, Benchmarks).
A threaded worker serves other requests meanwhile.
"""

import ipaddress
import logging
import multiprocessing
import os
import re
from typing import Any

from gunicorn import glogging

worker_class = "gthread"
# One process per core (WEB_CONCURRENCY overrides), each with GUNICORN_THREADS threads and as
# many PostgreSQL connections (DATABASE_POOL_SIZE; keep the two equal).
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())
threads = int(os.environ.get("GUNICORN_THREADS") or 12)
# Off: an access log line holds the full URL, and URLs may carry personal data or tokens.
accesslog = None

# Runs of hex digits, dots and colons with two colons or more (IPv6), and dotted quads (IPv4):
# each is taken out only if it is an address, so times of day and version numbers stay.
IPV6_LIKE = re.compile(r"(?<![\w.:])[0-9A-Fa-f.:]*:[0-9A-Fa-f.:]*:[0-9A-Fa-f.:]*")
IPV4_LIKE = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def without_addresses(text: str) -> str:
    def redact(found: re.Match[str]) -> str:
        candidate = found.group().rstrip(".:")  # "ip=::1: ..." is followed by a colon
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return found.group()
        return "[address]" + found.group()[len(candidate) :]

    return IPV4_LIKE.sub(redact, IPV6_LIKE.sub(redact, text))


class AddressFreeLogger(glogging.Logger):
    """gunicorn's logger, with every IP address taken out of its error log: it writes the
    client's for a malformed request ("Invalid request from ip=..."), and the proxy lines and
    forwarded headers it refuses hold more. Set through the documented logger_class setting
    (https://docs.gunicorn.org/en/stable/settings.html#logger-class); the listening address
    goes too, which the command line gives anyway."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)  # runs again on reload (SIGHUP): the filter is added once
        if self.drop_addresses not in self.error_log.filters:
            self.error_log.addFilter(self.drop_addresses)

    @staticmethod
    def drop_addresses(record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit: the handler reports it
            return True
        record.msg, record.args = without_addresses(message), ()
        if record.exc_info and not record.exc_text:
            trace = logging.Formatter().formatException(record.exc_info)
            record.exc_text = without_addresses(trace)
        return True


logger_class = AddressFreeLogger


def post_worker_init(worker: Any) -> None:
    """In demo mode, the first worker says where to go (the app is loaded in workers, not in
    the master, so a worker reads its real config; a respawned one is older and stays quiet),
    and every worker prints a line per email (membership/demo/console.py).

    Then freeze what the worker made while loading the app (about 130k objects: modules,
    models, compiled templates) out of the garbage collector's reach. A full collection walked
    them all, about 40 ms on the thread that happened to trigger it, for nothing: they live as
    long as the worker. Requests' own objects are collected as before."""
    import gc

    from membership.demo.console import worker_started

    worker_started(worker.wsgi, [str(sock) for sock in worker.sockets], first=worker.age == 1)
    gc.freeze()
