"""Database schema (SQLAlchemy Core) and engine set-up for the reference server.

SQLite is the embedded default (WAL, foreign keys on, set on every connection);
PostgreSQL works by URL (``postgresql+psycopg://``): keep queries portable Core.
The schema is created and evolved only by the alembic migrations in ``migrations/``
(``upgrade(url)``); ``metadata`` below mirrors the head revision for queries.

``camera_sources.url`` is SECRET: it may hold RTSP credentials. It is read only to
feed the media gateway and is never put into an API model or a log line unmasked.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import (JSON, Boolean, Column, DateTime, Engine, Float, ForeignKey, Integer,
                        MetaData, String, Table, Text, UniqueConstraint, create_engine, event)
from sqlalchemy.engine import make_url

log = logging.getLogger("rtcc.server.db")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("username", String(128), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("display_name", String(200), nullable=False, default=""),
    Column("password_hash", String(255), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the bearer token
    Column("username", String(128), ForeignKey("users.username", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

cameras = Table(
    "cameras", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("owner_agency", String(200), nullable=False),
    Column("division", Integer, nullable=True),
    Column("division_name", String(200), nullable=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("heading_deg", Float, nullable=True),
    Column("fov_deg", Float, nullable=True),
    Column("range_m", Float, nullable=True),
    Column("ptz", JSON, nullable=False),
    Column("private", Boolean, nullable=False, default=False),
    Column("legal_basis", Text, nullable=True),
    Column("source", String(200), nullable=False, default=""),
)

camera_sources = Table(
    "camera_sources", metadata,
    Column("camera_id", String(64), ForeignKey("cameras.id", ondelete="CASCADE"),
           primary_key=True),
    Column("profile", String(16), primary_key=True),
    Column("url", Text, nullable=False),  # SECRET
    Column("codec", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("fps", Float, nullable=False),
)

stations = Table(
    "stations", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("screens", Integer, nullable=False, default=1),
)

layouts = Table(
    "layouts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", String(64), ForeignKey("stations.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("screen", Integer, nullable=False, default=0),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("cols", Integer, nullable=False),
    Column("cells", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("updated_by", String(128), nullable=True),
    UniqueConstraint("station_id", "screen", "name", name="uq_layouts_station_screen_name"),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI types
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")  # concurrent writers wait instead of failing
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite files the parent folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(engine_url: str, revision: str = "heads") -> None:
    """Apply the alembic migrations up to ``revision`` (idempotent)."""
    engine = make_engine(engine_url)
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()
    log.info("database at revision %s (%s)", revision,
             make_url(engine_url).render_as_string(hide_password=True))


from console.server import tables_events  # noqa: E402,F401
from console.server import tables_alpr  # noqa: E402,F401
from console.server import tables_ptz  # noqa: E402,F401
