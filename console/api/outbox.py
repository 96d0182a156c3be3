"""Durable outbox: writes the operator made (bookmarks, dispositions, audit records...) are
kept in a local SQLite file (WAL, synchronous=FULL) until the server acknowledges them.

``enqueue`` gives each write an idempotency key (uuid4) and persists it BEFORE returning,
so a crash right after loses nothing. One delivery thread sends items in order (oldest
first; a failing head blocks the rest, so a later write never overtakes an earlier one),
each with its key in the ``Idempotency-Key`` header: if the connection drops after the
server committed, the retry is answered with the first result and nothing is created twice.

Outcomes: 2xx -> delivered (removed). A final 4xx (bad request, forbidden, not found,
validation...) -> moved to the ``dead`` table with the status and the server's message:
never silently dropped, never retried. Anything else (no connection, timeouts, 5xx, 401
while a session is renewed, 408/423/425/429) -> retried with exponential backoff.
Items survive process restarts: a new Outbox on the same file resumes them.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

log = logging.getLogger("rtcc.api.outbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  method TEXT NOT NULL, path TEXT NOT NULL, body TEXT NOT NULL, created_at REAL NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE TABLE IF NOT EXISTS dead (
  seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, method TEXT NOT NULL,
  path TEXT NOT NULL, body TEXT NOT NULL, created_at REAL NOT NULL, attempts INTEGER NOT NULL,
  status INTEGER NOT NULL, error TEXT NOT NULL, dead_at REAL NOT NULL);
"""
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRYABLE_4XX = frozenset({401, 408, 423, 425, 429})


class ResponseLike(Protocol):
    status_code: int
    text: str


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    key: str  # the idempotency key
    kind: str  # "bookmark", "disposition", "audit", ...: for the UI and logs
    method: str
    path: str  # below /api/v1, e.g. "/bookmarks"
    body: Any
    created_at: float
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class DeadItem:
    item: OutboxItem
    status: int
    error: str
    dead_at: float


Sender = Callable[[OutboxItem], ResponseLike]


def is_final(status: int) -> bool:
    """A 4xx that retrying cannot fix."""
    return 400 <= status < 500 and status not in RETRYABLE_4XX


class Outbox:
    def __init__(self, path: Path, send: Sender, *, backoff_initial: float = 0.5,
                 backoff_max: float = 30.0, autostart: bool = True) -> None:
        self.path = Path(path)
        self.send = send
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # enqueue returns only once it is on disk
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()  # guards the connection
        self._wake = threading.Condition()
        self._stopping = False
        self._kick = False
        self._thread: threading.Thread | None = None
        self.delivered = 0
        if autostart:
            self.start()

    # -- API ---------------------------------------------------------------------------------
    def enqueue(self, kind: str, method: str, path: str, body: Any = None) -> str:
        """Persist one write; returns its idempotency key."""
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"Outbox.enqueue: method {method!r} is not a write ({sorted(METHODS)})")
        if not path.startswith("/"):
            raise ValueError(f"Outbox.enqueue: path {path!r} must start with '/'")
        key = str(uuid.uuid4())
        text = json.dumps(body)  # fails here, not in the thread, for a body that is not JSON
        with self._lock:
            self._db.execute("INSERT INTO items (key, kind, method, path, body, created_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (key, kind, method, path, text, time.time()))
        self.wake()
        log.info("outbox: queued %s %s %s (%s)", kind, method, path, key)
        return key

    def pending(self) -> list[OutboxItem]:
        with self._lock:
            rows = self._db.execute("SELECT seq, key, kind, method, path, body, created_at, "
                                    "attempts, last_error FROM items ORDER BY seq").fetchall()
        return [self._item(r) for r in rows]

    def dead(self) -> list[DeadItem]:
        with self._lock:
            rows = self._db.execute("SELECT seq, key, kind, method, path, body, created_at, "
                                    "attempts, status, error, dead_at FROM dead ORDER BY seq").fetchall()
        return [DeadItem(self._item((*r[:8], None)), r[8], r[9], r[10]) for r in rows]

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name=f"outbox:{self.path.name}",
                                            daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Try the head item now (e.g. the client has seen the server come back)."""
        with self._wake:
            self._kick = True
            self._wake.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop delivering (an in-flight send finishes first) and close the file; idempotent.
        Undelivered items stay on disk for the next Outbox on this path."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.error("outbox thread did not stop within %.0f s", timeout)
                return
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- delivery ----------------------------------------------------------------------------
    @staticmethod
    def _item(r: tuple) -> OutboxItem:
        return OutboxItem(seq=r[0], key=r[1], kind=r[2], method=r[3], path=r[4],
                          body=json.loads(r[5]), created_at=r[6], attempts=r[7], last_error=r[8])

    def _head(self) -> OutboxItem | None:
        with self._lock:
            row = self._db.execute("SELECT seq, key, kind, method, path, body, created_at, "
                                   "attempts, last_error FROM items ORDER BY seq LIMIT 1").fetchone()
        return self._item(row) if row else None

    def _pause(self, seconds: float | None) -> bool:
        """Wait for seconds (None: until woken); False when stopping."""
        with self._wake:
            if not self._stopping and not self._kick:
                self._wake.wait(seconds)
            self._kick = False
            return not self._stopping

    def _run(self) -> None:
        backoff = self.backoff_initial
        while not self._stopping:
            item = self._head()
            if item is None:
                if not self._pause(None):
                    return
                continue
            try:
                resp = self.send(item)
                status, text = resp.status_code, resp.text
            except Exception as exc:  # noqa: BLE001 - any failure to get a reply is retried
                status, text = 0, f"{type(exc).__name__}: {exc}"
            if 200 <= status < 300:
                self._done(item)
                backoff = self.backoff_initial
            elif is_final(status):
                self._bury(item, status, text)
                backoff = self.backoff_initial
            else:
                self._failed(item, status, text)
                if not self._pause(backoff):
                    return
                backoff = min(backoff * 2, self.backoff_max)

    def _done(self, item: OutboxItem) -> None:
        with self._lock:
            self._db.execute("DELETE FROM items WHERE seq = ?", (item.seq,))
        self.delivered += 1
        log.info("outbox: delivered %s %s (%s)", item.kind, item.path, item.key)

    def _failed(self, item: OutboxItem, status: int, text: str) -> None:
        error = f"HTTP {status}: {text[:500]}" if status else text[:500]
        with self._lock:
            self._db.execute("UPDATE items SET attempts = attempts + 1, last_error = ? "
                             "WHERE seq = ?", (error, item.seq))
        log.warning("outbox: %s %s not delivered yet (%s); will retry", item.kind, item.key, error)

    def _bury(self, item: OutboxItem, status: int, text: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO dead (seq, key, kind, method, path, body, created_at, attempts, "
                "status, error, dead_at) SELECT seq, key, kind, method, path, body, created_at, "
                "attempts + 1, ?, ?, ? FROM items WHERE seq = ?",
                (status, text[:2000], time.time(), item.seq))
            self._db.execute("DELETE FROM items WHERE seq = ?", (item.seq,))
            self._db.execute("COMMIT")
        log.error("outbox: %s %s refused by the server (HTTP %d): %s; kept in the dead-letter "
                  "table", item.kind, item.key, status, text[:200])


def client_sender(client: Any, relogin: Callable[[], object] | None = None) -> Sender:
    """A Sender over a BackendClient's session, base URL, token and timeout. With
    ``relogin`` (e.g. ``lambda: client.login(user, password)`` from the keyring), a missing
    or rejected session is renewed first; if that fails the item is simply retried later."""

    def post(item: OutboxItem) -> ResponseLike:
        headers = {"Idempotency-Key": item.key}
        if client.token:
            headers["Authorization"] = f"Bearer {client.token}"
        return client.session.request(item.method, f"{client.base_url}/api/v1{item.path}",
                                      json=item.body, headers=headers, timeout=client.timeout)

    def send(item: OutboxItem) -> ResponseLike:
        if relogin is not None and not client.token:
            relogin()
        resp = post(item)
        if resp.status_code == 401 and relogin is not None:
            relogin()
            resp = post(item)
        return resp

    return send
