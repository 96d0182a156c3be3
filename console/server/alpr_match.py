"""Matching ALPR reads against hotlists: an in-memory plate index per hotlist version.

``HotlistIndex.refresh(conn)`` costs one small query (id and version of the active lists);
only a list whose version moved (any change of the list or its entries bumps it, in the
same transaction, see ``bump_version``) is reloaded, then the plate map is re-merged.
Several server processes on one database therefore stay consistent. ``match()`` is a dict
lookup plus an expiry check against ``now``; the state is NOT compared (the operator's
checklist does that: a plate read with the wrong or no state still hits).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update

from console.server import db
from console.server.tables_alpr import alpr_hotlist_entries as entries_t
from console.server.tables_alpr import alpr_hotlists as hotlists_t

log = logging.getLogger("rtcc.server.alpr")


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    entry_id: int
    hotlist_id: int
    hotlist_name: str
    priority: int
    covert: bool
    plate: str
    state: str | None
    expires: datetime | None
    list_type: str
    category: str
    reason: str
    nic: str

    def live(self, now: datetime) -> bool:
        return self.expires is None or self.expires > now


PlateMap = dict[str, tuple[IndexedEntry, ...]]


class BulkInsert:
    """The ingest hot path: many rows into one table, past Core's executemany (about 3x
    the driver's cost on 1,000 reads). Rows are tuples in ``columns`` order. PostgreSQL
    with psycopg: ``COPY ... FROM STDIN``; otherwise the DBAPI's ``executemany`` with the
    dialect's own bind processors, so values are stored exactly as Core stores them."""

    def __init__(self, table: Table, columns: tuple[str, ...]) -> None:
        self.table = table
        self.columns = columns
        self._compiled: dict[str, tuple[str, bool, list[tuple[int, Any]]]] = {}

    def _for(self, conn: Connection) -> tuple[str, bool, list[tuple[int, Any]]]:
        dialect = conn.dialect
        cached = self._compiled.get(dialect.name)
        if cached is None:
            compiled = insert(self.table).compile(dialect=dialect, column_keys=list(self.columns))
            if compiled.positional and list(compiled.positiontup or ()) != list(self.columns):
                raise RuntimeError(f"{dialect.name}: unexpected parameter order "
                                   f"{compiled.positiontup}")
            procs = [(i, p) for i, name in enumerate(self.columns)
                     if (p := self.table.c[name].type.dialect_impl(dialect)
                         .bind_processor(dialect)) is not None]
            cached = self._compiled[dialect.name] = (str(compiled), compiled.positional, procs)
        return cached

    def execute(self, conn: Connection, rows: list[tuple]) -> None:
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            self._copy(conn, rows)
            return
        sql, positional, procs = self._for(conn)
        if procs:
            rows = [self._processed(r, procs) for r in rows]
        params = rows if positional else [dict(zip(self.columns, r, strict=True)) for r in rows]
        conn.exec_driver_sql(sql, params)

    @staticmethod
    def _processed(row: tuple, procs: list[tuple[int, Any]]) -> tuple:
        out = list(row)
        for i, proc in procs:
            if out[i] is not None:
                out[i] = proc(out[i])
        return tuple(out)

    def _copy(self, conn: Connection, rows: list[tuple]) -> None:
        cols = ", ".join(self.columns)  # our own identifiers, never user input
        cursor = conn.connection.driver_connection.cursor()  # same transaction as conn
        try:
            with cursor.copy(f"COPY {self.table.name} ({cols}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
        finally:
            cursor.close()


def bump_version(conn: Connection, hotlist_id: int, username: str) -> int:
    """Mark the list changed (in the caller's transaction); returns the new version."""
    conn.execute(update(hotlists_t).where(hotlists_t.c.id == hotlist_id)
                 .values(version=hotlists_t.c.version + 1, updated_at=db.utcnow(),
                         updated_by=username))
    return conn.execute(select(hotlists_t.c.version)
                        .where(hotlists_t.c.id == hotlist_id)).scalar_one()


def _load(conn: Connection, meta) -> PlateMap:
    plates: dict[str, list[IndexedEntry]] = {}
    q = select(entries_t.c.id, entries_t.c.plate, entries_t.c.state, entries_t.c.expires,
               entries_t.c.list_type, entries_t.c.category, entries_t.c.reason,
               entries_t.c.nic).where(entries_t.c.hotlist_id == meta.id)
    for r in conn.execute(q):
        plates.setdefault(r.plate, []).append(IndexedEntry(
            r.id, meta.id, meta.name, meta.priority, meta.covert, r.plate, r.state,
            db.as_utc(r.expires) if r.expires is not None else None, r.list_type,
            r.category, r.reason, r.nic))
    return {p: tuple(v) for p, v in plates.items()}


class HotlistIndex:
    """Thread-safe: routes run in the threadpool; a rebuild swaps the maps atomically."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lists: dict[int, tuple[int, PlateMap]] = {}  # id -> (version, plates)
        self._merged: PlateMap = {}
        self._key: frozenset[tuple[int, int]] = frozenset()

    def refresh(self, conn: Connection) -> None:
        metas = conn.execute(select(hotlists_t.c.id, hotlists_t.c.version, hotlists_t.c.name,
                                    hotlists_t.c.priority, hotlists_t.c.covert)
                             .where(hotlists_t.c.active.is_(True))).all()
        key = frozenset((m.id, m.version) for m in metas)
        if key == self._key:
            return
        with self._lock:
            if key == self._key:
                return
            lists = {}
            for m in metas:
                cached = self._lists.get(m.id)
                lists[m.id] = cached if cached and cached[0] == m.version \
                    else (m.version, _load(conn, m))
            merged: dict[str, list[IndexedEntry]] = {}
            for _, plates in lists.values():
                for plate, found in plates.items():
                    merged.setdefault(plate, []).extend(found)
            self._merged = {p: tuple(sorted(v, key=lambda e: -e.priority))
                            for p, v in merged.items()}
            self._lists = lists
            self._key = key
            log.info("hotlist index: %d active lists, %d plates", len(lists), len(merged))

    def match(self, plate: str, now: datetime) -> list[IndexedEntry]:
        """Live entries for the plate, highest priority first."""
        found = self._merged.get(plate)
        if not found:
            return []
        return [e for e in found if e.live(now)]

    @property
    def plate_count(self) -> int:
        return len(self._merged)
