"""gunicorn's settings for this app, read by `gunicorn app:app` from this directory.

Threads carry the concurrency, not processes. A request that calls Stripe (starting a
checkout, a webhook handler reading the objects it names) waits on the network for each call,
about 100 ms from a data centre, without using a CPU. A sync worker is stuck for all that
time, so a few sync workers queue every reader and every webhook behind a handful of Stripe
calls: at 140 webhooks/s two of them fell further behind every second (README, Benchmarks).
A threaded worker serves other requests meanwhile.
"""

import multiprocessing
import os
from typing import Any

worker_class = "gthread"
# One process per core (WEB_CONCURRENCY overrides), each with GUNICORN_THREADS threads and as
# many PostgreSQL connections (DATABASE_POOL_SIZE; keep the two equal).
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())
threads = int(os.environ.get("GUNICORN_THREADS") or 12)
# Off: an access log line holds the full URL, and URLs may carry personal data or tokens.
accesslog = None


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
