"""Local SQLite store (WAL): the last catalog and layouts, so the console can start
with them when the backend is unreachable. Later also the outbox."""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from console.model import Camera, Layout

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog (
  server TEXT NOT NULL, camera_id TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (server, camera_id));
CREATE TABLE IF NOT EXISTS layouts (
  server TEXT NOT NULL, station_id TEXT NOT NULL, layout_id INTEGER NOT NULL,
  screen INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (server, station_id, layout_id));
"""


class LocalStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()  # one connection, used from worker threads
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _stamp(self, key: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                         (key, datetime.now(UTC).isoformat()))

    def saved_at(self, server: str, what: str) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (f"{what}@{server}",)).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    # Stream URLs carry short-lived tokens: never cache them.
    def save_catalog(self, server: str, cameras: list[Camera]) -> None:
        rows = [(server, c.id, c.model_copy(update={
            "streams": [s.model_copy(update={"url": ""}) for s in c.streams]}).model_dump_json())
            for c in cameras]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM catalog WHERE server=?", (server,))
            self._db.executemany("INSERT INTO catalog VALUES (?, ?, ?)", rows)
            self._stamp(f"catalog@{server}")
            self._db.execute("COMMIT")

    def load_catalog(self, server: str) -> list[Camera]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM catalog WHERE server=? ORDER BY camera_id",
                                    (server,)).fetchall()
        return _parse(Camera, rows)

    def save_layouts(self, server: str, station_id: str, layouts: list[Layout]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM layouts WHERE server=? AND station_id=?", (server, station_id))
            self._db.executemany("INSERT INTO layouts VALUES (?, ?, ?, ?, ?)", [
                (server, station_id, lay.id, lay.screen, lay.model_dump_json()) for lay in layouts])
            self._stamp(f"layouts@{server}")
            self._db.execute("COMMIT")

    def save_layout(self, server: str, layout: Layout) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO layouts VALUES (?, ?, ?, ?, ?)", (
                server, layout.station_id, layout.id, layout.screen, layout.model_dump_json()))

    def load_layouts(self, server: str, station_id: str) -> list[Layout]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM layouts WHERE server=? AND station_id=? ORDER BY screen, layout_id",
                (server, station_id)).fetchall()
        return _parse(Layout, rows)


def _parse(model, rows):
    out = []
    for (body,) in rows:
        try:
            out.append(model.model_validate(json.loads(body)))
        except (ValueError, ValidationError):
            continue  # a row written by an incompatible older version: refetched when online
    return out
