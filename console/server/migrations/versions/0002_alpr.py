"""ALPR: hotlists, hotlist entries, reads, hits.

Revision ID: 0002_alpr
Revises: 0001_initial
Create Date: 2025-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_alpr"
down_revision = "0001_initial"
branch_labels = ("alpr",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alpr_hotlists",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("source_format", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("covert", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "alpr_hotlist_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("hotlist_id", sa.Integer,
                  sa.ForeignKey("alpr_hotlists.id", ondelete="CASCADE"), nullable=False),
        sa.Column("plate", sa.String(10), nullable=False),
        sa.Column("state", sa.String(2), nullable=True),
        sa.Column("list_type", sa.String(8), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("nic", sa.String(20), nullable=False),
        sa.Column("ori", sa.String(20), nullable=False),
        sa.Column("entered_date", sa.Date, nullable=True),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vehicle_year", sa.Integer, nullable=True),
        sa.Column("make", sa.String(40), nullable=False),
        sa.Column("model", sa.String(40), nullable=False),
        sa.Column("color", sa.String(40), nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
    )
    op.create_index("ix_alpr_hotlist_entries_list_plate", "alpr_hotlist_entries",
                    ["hotlist_id", "plate"])
    op.create_table(
        "alpr_reads",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("plate", sa.String(10), nullable=False),
        sa.Column("state", sa.String(2), nullable=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("snapshot_url", sa.Text, nullable=True),
    )
    op.create_index("ix_alpr_reads_plate", "alpr_reads", ["plate"])
    op.create_index("ix_alpr_reads_read_at", "alpr_reads", ["read_at"])
    op.create_table(
        "alpr_hits",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("read_id", BigId, sa.ForeignKey("alpr_reads.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("plate", sa.String(10), nullable=False),
        sa.Column("read_state", sa.String(2), nullable=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("snapshot_url", sa.Text, nullable=True),
        sa.Column("hotlist_id", sa.Integer, sa.ForeignKey("alpr_hotlists.id"), nullable=False),
        sa.Column("hotlist_name", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("covert", sa.Boolean, nullable=False),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("entry_state", sa.String(2), nullable=True),
        sa.Column("list_type", sa.String(8), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("nic", sa.String(20), nullable=False),
        sa.Column("disposition", sa.JSON, nullable=True),
    )
    op.create_index("ix_alpr_hits_created_at", "alpr_hits", ["created_at"])
    op.create_index("ix_alpr_hits_hotlist_status", "alpr_hits", ["hotlist_id", "status"])


def downgrade() -> None:
    op.drop_table("alpr_hits")
    op.drop_table("alpr_reads")
    op.drop_table("alpr_hotlist_entries")
    op.drop_table("alpr_hotlists")
