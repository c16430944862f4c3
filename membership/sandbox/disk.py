"""The sandbox's state in a SQLite file: kept across restarts and shared by every process.

Each object is one row holding its JSON, stamped with the version of the store that last
wrote it. A transaction takes SQLite's write lock (BEGIN IMMEDIATE: one process at a time,
which a demo's traffic never notices), reads the rows written since this process last looked,
and on leaving writes back only the objects it handed out that have changed.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from membership.sandbox.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS object (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    rev INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS object_rev ON object (rev);
CREATE TABLE IF NOT EXISTS idempotent_answer (
    key TEXT PRIMARY KEY,
    rev INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
# Waiting this long for another process's transaction is a hung process, not a busy demo.
LOCK_TIMEOUT_SECONDS = 30


class Disk:
    """Reads and writes one store's state; used only by its Transaction, under its lock."""

    def __init__(self, store: Store, path: str) -> None:
        self.store = store
        self.path = path
        # One connection, used by whichever thread holds the store's lock.
        self.conn = sqlite3.connect(
            path, timeout=LOCK_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self.version = -1  # the file's version this process has read; -1: nothing yet
        self.opened = False
        self.saved: dict[str, str] = {}  # each object's JSON as last read or written
        self.saved_meta: dict[str, str] = {}
        self.touched: set[str] = set()
        self.new_keys: list[str] = []

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
            version = int(row[0]) if row else 0
            if version != self.version:
                self.load(version)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def load(self, version: int) -> None:
        """Bring this process's copy up to the file's `version`."""
        store, first = self.store, not self.opened
        if self.version < 0:
            store.objects.clear()
            store.events.clear()
            store.idempotency.clear()
            self.saved.clear()
        rows = self.conn.execute(
            "SELECT id, body FROM object WHERE rev > ? ORDER BY seq", (self.version,)
        )
        for object_id, body in rows:
            obj = json.loads(body)
            known = store.objects.get(object_id)
            if known is None:
                store.objects[object_id] = obj
                if obj["object"] == "event":
                    store.events.append(obj)
            else:  # in place, so lists holding it (store.events) see the change
                known.clear()
                known.update(obj)
            self.saved[object_id] = body
        answers = self.conn.execute(
            "SELECT key, body FROM idempotent_answer WHERE rev > ?", (self.version,)
        )
        for key, body in answers:
            request, status, response = json.loads(body)
            store.idempotency[key] = (request, status, response)
        meta = dict(self.conn.execute("SELECT name, value FROM meta").fetchall())
        if "now" in meta:
            # The first process to open the file after a restart moves the clock on to the
            # wall clock it started with; Stripe's clock never goes back.
            now = int(meta["now"])
            store.now = max(now, store.now) if first else now
            store.undelivered = json.loads(meta["undelivered"])
            store.next_seq = int(meta["next_seq"])
        self.saved_meta = meta
        self.version = version
        store.loaded += 1  # other processes' writes: every type's list order is read again
        self.opened = True

    def commit(self) -> None:
        store = self.store
        changed = []
        for object_id in self.touched:
            obj = store.objects.get(object_id)
            if obj is None:
                continue
            body = json.dumps(obj, separators=(",", ":"))
            if self.saved.get(object_id) != body:
                changed.append((object_id, obj.get("_seq", 0), body))
        meta = {
            "now": str(store.now),
            "undelivered": json.dumps(store.undelivered),
            "next_seq": str(store.next_seq),
        }
        meta_changed = any(self.saved_meta.get(k) != v for k, v in meta.items())
        try:
            if changed or self.new_keys or meta_changed:
                version = self.version + 1
                self.conn.executemany(
                    "INSERT INTO object (id, seq, rev, body) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, body = excluded.body",
                    [(object_id, seq, version, body) for object_id, seq, body in changed],
                )
                self.conn.executemany(
                    "INSERT OR REPLACE INTO idempotent_answer (key, rev, body) VALUES (?, ?, ?)",
                    [(k, version, json.dumps(store.idempotency[k])) for k in self.new_keys],
                )
                meta["version"] = str(version)
                self.conn.executemany(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", meta.items()
                )
                self.conn.execute("COMMIT")
                self.version = version
                self.saved.update((object_id, body) for object_id, _, body in changed)
                self.saved_meta = meta
            else:
                self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise
        finally:
            self.touched.clear()
            self.new_keys.clear()

    def rollback(self) -> None:
        """Forget this transaction's changes: the next one reads the whole file again."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.touched.clear()
        self.new_keys.clear()
        self.version = -1

    def close(self) -> None:
        self.conn.close()
