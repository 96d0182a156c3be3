"""Migrations and SQLite connection settings."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, insert, select, text
from sqlalchemy.exc import IntegrityError

from console.server import db


def _heads() -> set[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def test_migrations_are_idempotent_and_match_metadata(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/server.db"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(db.stations).values(id="s1", name="Desk", screens=1))
        db.upgrade(url)  # second run: no error, data kept
        with engine.connect() as conn:
            versions = {r[0] for r in conn.execute(text("select version_num from alembic_version"))}
            assert versions == _heads()  # one branch per area, all at their head
            assert conn.execute(select(db.stations.c.name)).scalar() == "Desk"
        insp = inspect(engine)
        for table in db.metadata.sorted_tables:
            assert {c["name"] for c in insp.get_columns(table.name)} == set(table.c.keys())
    finally:
        engine.dispose()


def test_sqlite_uses_wal_and_enforces_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/server.db"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(db.layouts).values(
                station_id="missing", screen=0, name="x", kind="1x1", rows=1, cols=1, cells=[],
                active=True, version=1))
    finally:
        engine.dispose()

