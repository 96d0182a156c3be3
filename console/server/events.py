"""The server's event bus: stored events with increasing ids, fanned out live over SSE.

``publish(type, data, conn=None)`` is called from sync route code (threadpool). It inserts
the event (in the caller's transaction when ``conn`` is given) and, once that commits,
wakes the *pump*: one task on the server loop that reads the rows with ``id > last
dispatched`` from the database, in id order, and puts them on every subscriber's queue.
Because the pump reads committed rows, what a live client sees is exactly what a
``Last-Event-ID`` replay would see: resume has no gap and no duplicate.

Ordering: ids must commit in id order, or a reader could pass over an id that commits
later. SQLite has one writer at a time; on PostgreSQL every append takes the
transaction-level advisory lock ``APPEND_LOCK_KEY`` (shared with the audit log, so the
two never deadlock) before it draws an id.

Across replicas (PostgreSQL): every append also does ``pg_notify(CHANNEL, id)``, which
PostgreSQL delivers at commit to every listener; each replica LISTENs and wakes its pump.
A slow poll (``poll_s``) is the safety net for a missed wake (and lets several servers
share one SQLite file).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, event, func, insert, select, text
from sqlalchemy.engine import make_url

from console.model import Event
from console.server import db
from console.server.tables_events import events as events_table

log = logging.getLogger("rtcc.server.events")

APPEND_LOCK_KEY = 0x52544343  # "RTCC"
CHANNEL = "rtcc_events"
_PENDING = "rtcc.events.pending"  # Connection.info key: highest id published in the open txn


def lock_appends(conn: Connection) -> None:
    """Serialize appends to the events and audit tables until ``conn``'s transaction ends
    (PostgreSQL; SQLite already has a single writer)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK_KEY})


def _event(row: Any) -> Event:
    return Event(id=row.id, type=row.type, data=row.data, created_at=db.as_utc(row.created_at))


def sse_message(ev: Event) -> str:
    """One SSE message; ``data`` is the whole Event as JSON (one line)."""
    return f"id: {ev.id}\nevent: {ev.type}\ndata: {ev.model_dump_json()}\n\n"


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    closed: bool = False


class EventBus:
    def __init__(self, *, heartbeat_s: float = 10.0, poll_s: float = 1.0,
                 max_backlog: int = 10_000, replay_page: int = 500) -> None:
        self.heartbeat_s = heartbeat_s
        self.poll_s = poll_s
        self.max_backlog = max_backlog  # a subscriber this far behind is dropped (it resumes)
        self.replay_page = replay_page
        self.engine: Engine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: set[Subscription] = set()
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_id = 0      # highest id dispatched by the pump
        self._expected = 0     # highest id known to be committed (or about to be)
        self._closing = False

    # -- lifecycle (on the server loop) -------------------------------------------------
    async def start(self, engine: Engine) -> None:
        self.engine = engine
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._closing = False
        if engine.dialect.name != "postgresql":
            # pysqlite has no after-commit hook; "commit" fires just before the commit, so
            # the pump retries briefly until the expected id is visible.
            event.listen(engine, "commit", self._on_commit)
            event.listen(engine, "rollback", self._on_rollback)
        self._last_id = self._expected = await asyncio.to_thread(self.max_id)
        self._tasks = [asyncio.create_task(self._pump(), name="events-pump")]
        if engine.dialect.name == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen(), name="events-listen"))
        log.info("event bus started at id %d", self._last_id)

    async def stop(self) -> None:
        self._close_streams()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []
        if self.engine is not None and event.contains(self.engine, "commit", self._on_commit):
            event.remove(self.engine, "commit", self._on_commit)
            event.remove(self.engine, "rollback", self._on_rollback)
        self._loop = None

    def close_streams(self) -> None:
        """End every SSE stream now (thread-safe): called when the server is asked to stop,
        so its graceful shutdown does not wait for never-ending responses."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop closed meanwhile
                loop.call_soon_threadsafe(self._close_streams)

    def _close_streams(self) -> None:
        self._closing = True
        for sub in list(self._subs):
            self._drop(sub)

    # -- publishing (any thread) ---------------------------------------------------------
    def publish(self, type: str, data: dict[str, Any], conn: Connection | None = None) -> int:
        """Store an event and return its id; live clients get it once the transaction
        commits (``conn``: the caller's; otherwise a transaction of its own)."""
        if conn is None:
            if self.engine is None:
                raise RuntimeError("EventBus.publish before start(): no database")
            with self.engine.begin() as own:
                new_id = self._append(own, type, data)
            self._notify(new_id)
            return new_id
        return self._append(conn, type, data)

    def _append(self, conn: Connection, type: str, data: dict[str, Any]) -> int:
        # Round-trip through JSON now: what is stored is exactly what replay gives back,
        # and a non-JSON value fails here, naming the event, not later in the pump.
        try:
            payload = json.loads(json.dumps(data))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"event {type!r}: data is not JSON: {exc}") from exc
        lock_appends(conn)
        new_id = conn.execute(insert(events_table).values(
            type=type, data=payload, created_at=db.utcnow()).returning(events_table.c.id)
        ).scalar_one()
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": str(new_id)})
        else:
            conn.info[_PENDING] = max(conn.info.get(_PENDING, 0), new_id)
        return new_id

    def _on_commit(self, conn: Connection) -> None:
        new_id = conn.info.pop(_PENDING, None)
        if new_id is not None:
            self._notify(new_id)

    def _on_rollback(self, conn: Connection) -> None:
        conn.info.pop(_PENDING, None)

    def _notify(self, new_id: int) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # not serving: stored, replayed on the next start
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake_for, new_id)

    def _wake_for(self, new_id: int) -> None:
        self._expected = max(self._expected, new_id)
        if self._wake is not None:
            self._wake.set()

    # -- reading (sync, threadpool) ------------------------------------------------------
    def max_id(self) -> int:
        assert self.engine is not None
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(events_table.c.id))).scalar() or 0

    def events_after(self, after_id: int, limit: int) -> list[Event]:
        assert self.engine is not None
        with self.engine.connect() as conn:
            rows = conn.execute(select(events_table).where(events_table.c.id > after_id)
                                .order_by(events_table.c.id).limit(limit)).all()
        return [_event(r) for r in rows]

    # -- fan-out (server loop) -----------------------------------------------------------
    async def _pump(self) -> None:
        assert self._wake is not None
        retry = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), retry or self.poll_s)
            self._wake.clear()
            try:
                await self._drain()
            except Exception:  # the database may be briefly away: keep pumping
                log.exception("event pump: reading new events failed")
                retry = min(max(retry * 2, 0.1), self.poll_s)
                continue
            # Published but not visible yet (woken just before the commit): look again soon;
            # an id that never shows up was rolled back, and the poll moves on.
            behind = self._expected > self._last_id
            retry = min(max(retry * 2, 0.002), 0.25) if behind else 0.0
            if behind and retry >= 0.25:
                self._expected = self._last_id
                retry = 0.0

    async def _drain(self) -> None:
        while True:
            batch = await asyncio.to_thread(self.events_after, self._last_id, self.replay_page)
            for ev in batch:
                self._dispatch(ev)
                self._last_id = ev.id
            if len(batch) < self.replay_page:
                return

    def _dispatch(self, ev: Event) -> None:
        for sub in list(self._subs):
            if sub.queue.qsize() >= self.max_backlog:
                log.warning("SSE client %d events behind: dropped (it will resume)",
                            sub.queue.qsize())
                self._drop(sub)
            else:
                sub.queue.put_nowait(ev)

    def _drop(self, sub: Subscription) -> None:
        if not sub.closed:
            sub.closed = True
            sub.queue.put_nowait(None)
        self._subs.discard(sub)

    async def _listen(self) -> None:
        """PostgreSQL LISTEN: another replica's (or our own) commit wakes the pump."""
        import psycopg  # only needed with PostgreSQL

        assert self.engine is not None and self._wake is not None
        dsn = make_url(self.engine.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        backoff = 0.5
        while True:
            try:
                aconn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
                async with aconn:
                    await aconn.execute(f"LISTEN {CHANNEL}")
                    self._wake.set()  # catch up on whatever committed while not listening
                    backoff = 0.5
                    async for note in aconn.notifies():
                        with contextlib.suppress(ValueError):
                            self._expected = max(self._expected, int(note.payload))
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any driver error: reconnect
                log.warning("event LISTEN connection lost (%s); retrying in %.1f s",
                            type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 8.0)

    # -- SSE --------------------------------------------------------------------------------
    def subscribe(self) -> Subscription:
        sub = Subscription()
        if self._closing:
            sub.closed = True
            sub.queue.put_nowait(None)
        else:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    async def stream(self, after: int | None,
                     on_end: Callable[[], None] | None = None) -> AsyncIterator[str]:
        """SSE text: with ``after`` (Last-Event-ID), the stored events with a larger id,
        then live ones; without, live events from now. Subscribing before the replay and
        skipping ids already sent gives no gap and no duplicate."""
        sub = self.subscribe()
        try:
            yield f"retry: 500\n: connected at event {self._last_id}\n\n"
            last = after if after is not None else self._last_id
            if after is not None:
                while True:
                    page = await asyncio.to_thread(self.events_after, last, self.replay_page)
                    for ev in page:
                        yield sse_message(ev)
                        last = ev.id
                    if len(page) < self.replay_page:
                        break
            while True:
                try:
                    ev = await asyncio.wait_for(sub.queue.get(), self.heartbeat_s)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if ev is None:
                    return
                if ev.id > last:
                    yield sse_message(ev)
                    last = ev.id
        finally:
            self.unsubscribe(sub)
            if on_end is not None:
                on_end()
