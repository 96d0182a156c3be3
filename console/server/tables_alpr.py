"""ALPR tables (SQLAlchemy Core, portable SQLite/PostgreSQL); created by migration 0002_alpr.

``alpr_hotlists.version`` is bumped in the same transaction as every change of a list or
its entries: the in-memory match index (``console.server.alpr_match``) rebuilds a list
when its version moves. A hit copies the entry it matched (the entry may be replaced by a
later import) and the read's fields (so hit queries need no join).
"""
from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        BigInteger,
                        Boolean,
                        Column,
                        Date,
                        DateTime,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        String,
                        Table,
                        Text,
)

from console.server.db import metadata

# BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY
BigId = BigInteger().with_variant(Integer(), "sqlite")

alpr_hotlists = Table(
    "alpr_hotlists", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("source_format", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("covert", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("description", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(128), nullable=False),
)

alpr_hotlist_entries = Table(
    "alpr_hotlist_entries", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("hotlist_id", Integer, ForeignKey("alpr_hotlists.id", ondelete="CASCADE"),
           nullable=False),
    Column("plate", String(10), nullable=False),
    Column("state", String(2), nullable=True),
    Column("list_type", String(8), nullable=False),
    Column("category", String(100), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("nic", String(20), nullable=False),
    Column("ori", String(20), nullable=False),
    Column("entered_date", Date, nullable=True),
    Column("expires", DateTime(timezone=True), nullable=True),
    Column("vehicle_year", Integer, nullable=True),
    Column("make", String(40), nullable=False),
    Column("model", String(40), nullable=False),
    Column("color", String(40), nullable=False),
    Column("extra", JSON, nullable=False),
    Index("ix_alpr_hotlist_entries_list_plate", "hotlist_id", "plate"),
)

alpr_reads = Table(
    "alpr_reads", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("plate", String(10), nullable=False),
    Column("state", String(2), nullable=True),
    Column("confidence", Float, nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("snapshot_url", Text, nullable=True),
    Index("ix_alpr_reads_plate", "plate"),
    Index("ix_alpr_reads_read_at", "read_at"),
)

alpr_hits = Table(
    "alpr_hits", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("read_id", BigId, ForeignKey("alpr_reads.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # copied from the read
    Column("device_id", String(64), nullable=False),
    Column("plate", String(10), nullable=False),
    Column("read_state", String(2), nullable=True),
    Column("confidence", Float, nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("snapshot_url", Text, nullable=True),
    # copied from the hotlist entry (no FK on the entry: a re-import replaces entries; a
    # hotlist with hits cannot be deleted, only deactivated)
    Column("hotlist_id", Integer, ForeignKey("alpr_hotlists.id"), nullable=False),
    Column("hotlist_name", String(200), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("covert", Boolean, nullable=False),
    Column("entry_id", BigId, nullable=False),
    Column("entry_state", String(2), nullable=True),
    Column("list_type", String(8), nullable=False),
    Column("category", String(100), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("nic", String(20), nullable=False),
    Column("disposition", JSON, nullable=True),
    Index("ix_alpr_hits_created_at", "created_at"),
    Index("ix_alpr_hits_hotlist_status", "hotlist_id", "status"),
)
