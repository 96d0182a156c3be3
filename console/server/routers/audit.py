"""``/api/v1/audit``: read and verify the hash-chained audit log (auditors, admins)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from console.model import AuditRecord, AuditVerify
from console.server import audit, db
from console.server.db_errors import INT32_MAX
from console.server.permissions import require_dep
from console.server.tables_events import audit_log

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=list[AuditRecord], dependencies=[require_dep("audit.read")])
def list_audit(
    request: Request,
    user: Annotated[str | None, Query(max_length=128, description="username")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="before (ISO 8601)")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=INT32_MAX, description="page: ids below")]
    = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditRecord]:
    """Newest first."""
    q = select(audit_log)
    if user is not None:
        q = q.where(audit_log.c.username == user)
    if action is not None:
        q = q.where(audit_log.c.action == action)
    if since is not None:
        q = q.where(audit_log.c.at >= db.as_utc(since))
    if until is not None:
        q = q.where(audit_log.c.at < db.as_utc(until))
    if before_id is not None:
        q = q.where(audit_log.c.id < before_id)
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(q.order_by(audit_log.c.id.desc()).limit(limit)).all()
    return [audit.to_model(r) for r in rows]


@router.get("/verify", response_model=AuditVerify, dependencies=[require_dep("audit.read")])
def verify_audit(request: Request) -> AuditVerify:
    """Walk the whole chain; ``first_bad_id`` names the first record that fails."""
    with request.app.state.engine.connect() as conn:
        return audit.verify(conn)
