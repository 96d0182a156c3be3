"""PTZ presets, bookmarks and the recordings index (SQLAlchemy Core, portable SQLite and
PostgreSQL); created by migration 0002_ptz.

PTZ locks are NOT stored: they live in the server process with the dead-man timers that
act on them (``console.server.ptz``), and die with it (a restarted server has no holders).
Bookmarks have no foreign key to cameras on purpose: deleting a camera must not delete
evidence. ``bookmark_tags`` makes tag search portable (no JSON operators).
"""
from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        BigInteger,
                        Boolean,
                        Column,
                        DateTime,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

from console.server.db import metadata

ptz_presets = Table(
    "ptz_presets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(64), ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("pan", Float, nullable=False),
    Column("tilt", Float, nullable=False),
    Column("zoom", Float, nullable=False),
    Column("saved_by", String(128), nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("camera_id", "name", name="uq_ptz_presets_camera_name"),
)

bookmarks = Table(
    "bookmarks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Client-chosen key of the create request; a retry with it returns the same row.
    Column("idempotency_key", String(128), nullable=True, unique=True),
    Column("request_hash", String(64), nullable=True),  # sha256 of user + canonical body
    Column("camera_id", String(64), nullable=False),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True), nullable=False),
    Column("title", String(200), nullable=False),
    Column("notes", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("case_number", String(32), nullable=True),
    Column("protected", Boolean, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(128), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_bookmarks_camera_start", "camera_id", "start"),
    Index("ix_bookmarks_case_number", "case_number"),
)

bookmark_tags = Table(
    "bookmark_tags", metadata,
    Column("bookmark_id", Integer, ForeignKey("bookmarks.id", ondelete="CASCADE"),
           primary_key=True),
    Column("tag", String(64), primary_key=True),
    Index("ix_bookmark_tags_tag", "tag"),
)

recordings = Table(
    "recordings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(64), nullable=False),
    Column("profile", String(16), nullable=False),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True), nullable=False),
    Column("path", Text, nullable=False),  # relative to the recordings directory
    Column("bytes", BigInteger, nullable=False),
    # [[byte offset, seconds after start], ...] of every keyframe: playback cuts there.
    Column("keyframes", JSON, nullable=False),
    Index("ix_recordings_stream_start", "camera_id", "profile", "start"),
)
