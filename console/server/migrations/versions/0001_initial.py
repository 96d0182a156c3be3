"""Initial schema: users, sessions, cameras, camera_sources, stations, layouts.

Revision ID: 0001_initial
Revises:
Create Date: 2025-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(128),
                  sa.ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sessions_username", "sessions", ["username"])
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("owner_agency", sa.String(200), nullable=False),
        sa.Column("division", sa.Integer, nullable=True),
        sa.Column("division_name", sa.String(200), nullable=True),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("heading_deg", sa.Float, nullable=True),
        sa.Column("fov_deg", sa.Float, nullable=True),
        sa.Column("range_m", sa.Float, nullable=True),
        sa.Column("ptz", sa.JSON, nullable=False),
        sa.Column("private", sa.Boolean, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
    )
    op.create_table(
        "camera_sources",
        sa.Column("camera_id", sa.String(64),
                  sa.ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("profile", sa.String(16), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("codec", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("fps", sa.Float, nullable=False),
    )
    op.create_table(
        "stations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("screens", sa.Integer, nullable=False),
    )
    op.create_table(
        "layouts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(64),
                  sa.ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("screen", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("cols", sa.Integer, nullable=False),
        sa.Column("cells", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(128), nullable=True),
        sa.UniqueConstraint("station_id", "screen", "name",
                            name="uq_layouts_station_screen_name"),
    )
    op.create_index("ix_layouts_station_id", "layouts", ["station_id"])


def downgrade() -> None:
    op.drop_table("layouts")
    op.drop_table("stations")
    op.drop_table("camera_sources")
    op.drop_table("cameras")
    op.drop_index("ix_sessions_username", table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("users")
