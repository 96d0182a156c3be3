"""Alembic environment: runs on the connection handed in by ``console.server.db.upgrade``.

No alembic.ini is needed; ``upgrade()`` builds the Config in code.
"""
from __future__ import annotations

from alembic import context

from console.server.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    raise RuntimeError("run migrations through console.server.db.upgrade(url)")

context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
