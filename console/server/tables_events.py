"""Tables of the events, audit and alerts areas (SQLAlchemy Core, mirrors migration
``0002_events``). ``sqlite_autoincrement``: ids are never reused after a delete, so an
SSE ``Last-Event-ID`` and an audit record id always mean one row."""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, Table, Text

from console.server.db import metadata

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", String(128), nullable=False, index=True),
    Column("role", String(32), nullable=True),
    Column("action", String(64), nullable=False, index=True),
    Column("target", String(500), nullable=False),
    Column("reason_code", String(64), nullable=True),
    Column("case_number", String(64), nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    sqlite_autoincrement=True,
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False, index=True),
    Column("priority", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("division", Integer, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("camera_ids", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("holder", String(128), nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("history", JSON, nullable=False),
    Column("version", Integer, nullable=False),  # bumped by every transition
    sqlite_autoincrement=True,
)
