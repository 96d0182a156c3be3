"""PTZ presets, bookmarks (+ tags) and the recordings index.

Revision ID: 0002_ptz
Revises: 0001_initial
Create Date: 2025-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_ptz"
down_revision = "0001_initial"
branch_labels = ("ptz",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ptz_presets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("pan", sa.Float, nullable=False),
        sa.Column("tilt", sa.Float, nullable=False),
        sa.Column("zoom", sa.Float, nullable=False),
        sa.Column("saved_by", sa.String(128), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("camera_id", "name", name="uq_ptz_presets_camera_name"),
    )
    op.create_table(
        "bookmarks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(128), nullable=True, unique=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("case_number", sa.String(32), nullable=True),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_bookmarks_camera_start", "bookmarks", ["camera_id", "start"])
    op.create_index("ix_bookmarks_case_number", "bookmarks", ["case_number"])
    op.create_table(
        "bookmark_tags",
        sa.Column("bookmark_id", sa.Integer, sa.ForeignKey("bookmarks.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
    )
    op.create_index("ix_bookmark_tags_tag", "bookmark_tags", ["tag"])
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("profile", sa.String(16), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("keyframes", sa.JSON, nullable=False),
    )
    op.create_index("ix_recordings_stream_start", "recordings", ["camera_id", "profile", "start"])


def downgrade() -> None:
    op.drop_table("recordings")
    op.drop_table("bookmark_tags")
    op.drop_table("bookmarks")
    op.drop_table("ptz_presets")
