"""The append-only, hash-chained audit log.

``record(conn, user=..., action=..., target=...)`` appends one row INSIDE the caller's
transaction, so an action and its audit record commit (or roll back) together. Each row
stores ``prev_hash`` (the previous row's hash; 64 zeros for the first) and
``hash = sha256(prev_hash + canonical JSON of the row)``, the id included: editing a row
breaks its hash, removing or reordering rows breaks the next row's link.
``verify(conn)`` walks the chain and names the first record that does not verify.

Appends are serialized: on PostgreSQL by the advisory lock shared with the event bus;
on SQLite the row is inserted FIRST (which takes the single write lock) and only then
is the predecessor read and the hash filled in, so two appends can never read the same
predecessor. Known limit: removing the newest records leaves a valid shorter chain
(anchor the head hash elsewhere, e.g. in a daily report, to catch that).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Connection, insert, select, update

from console.model import (
    CASE_NUMBER_PATTERN,
    AuditRecord,
    AuditVerify,
    ReasonCode,
    Role,
    User,
)
from console.server import db
from console.server.events import lock_appends
from console.server.routers import field_error
from console.server.tables_events import audit_log

GENESIS = "0" * 64
_CASE = re.compile(CASE_NUMBER_PATTERN)
_REASONS = ", ".join(r.value for r in ReasonCode)


@dataclass(frozen=True)
class Justification:
    reason: ReasonCode
    case: str


def justification(reason: str | None, case: str | None, *,
                  where: str = "query") -> Justification:
    """Validate a reason code and case number: 422 naming ``reason`` / ``case``
    (``loc`` = ``[where, "reason"]``; pass ``where="body"`` for values from a body)."""
    if not reason:
        raise field_error((where, "reason"), f"a reason code is required (one of {_REASONS})")
    try:
        code = ReasonCode(reason)
    except ValueError:
        raise field_error((where, "reason"), f"unknown reason code {reason[:64]!r} "
                                             f"(one of {_REASONS})") from None
    if not case:
        raise field_error((where, "case"), "a case number is required")
    if not _CASE.match(case):
        raise field_error((where, "case"), f"case number {case[:64]!r} does not match "
                                           f"{CASE_NUMBER_PATTERN}")
    return Justification(code, case)


def query_justification(
    reason: Annotated[str | None, Query(description="controlled reason code (ReasonCode)")]
    = None,
    case: Annotated[str | None, Query(description=f"case number, {CASE_NUMBER_PATTERN}")]
    = None,
) -> Justification:
    """The same as a dependency on the query parameters ``reason`` and ``case``:
    ``just: Annotated[Justification, Depends(query_justification)]``."""
    return justification(reason, case)


def _canonical(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _hashed_fields(record_id: int, values: dict[str, Any]) -> dict[str, Any]:
    return {"id": record_id, "at": db.as_utc(values["at"]).isoformat(),
            "username": values["username"], "role": values["role"],
            "action": values["action"], "target": values["target"],
            "reason_code": values["reason_code"], "case_number": values["case_number"],
            "outcome": values["outcome"], "detail": values["detail"]}


def chain_hash(prev_hash: str, record_id: int, values: dict[str, Any]) -> str:
    text = prev_hash + _canonical(_hashed_fields(record_id, values))
    return hashlib.sha256(text.encode()).hexdigest()


def append(conn: Connection, *, username: str, role: str | None, action: str, target: str,
           reason_code: str | None = None, case_number: str | None = None,
           outcome: str = "ok", detail: dict[str, Any] | None = None) -> int:
    """Append one record in ``conn``'s transaction; returns its id. ``record`` is the
    usual entry point; this one also serves callers without a ``User`` (failed login)."""
    values: dict[str, Any] = {
        "at": db.utcnow(), "username": username[:128], "role": role, "action": action[:64],
        "target": target[:500], "reason_code": reason_code, "case_number": case_number,
        "outcome": outcome[:32],
        # through JSON now, so the hash covers exactly what the database gives back
        "detail": json.loads(json.dumps(detail or {}, default=str)),
    }
    lock_appends(conn)
    new_id = conn.execute(insert(audit_log).values(**values, prev_hash="", hash="")
                          .returning(audit_log.c.id)).scalar_one()
    prev = conn.execute(select(audit_log.c.hash).where(audit_log.c.id < new_id)
                        .order_by(audit_log.c.id.desc()).limit(1)).scalar()
    prev_hash = prev or GENESIS
    conn.execute(update(audit_log).where(audit_log.c.id == new_id).values(
        prev_hash=prev_hash, hash=chain_hash(prev_hash, new_id, values)))
    return new_id


def record(conn: Connection, *, user: User, action: str, target: str,
           reason_code: str | None = None, case_number: str | None = None,
           outcome: str = "ok", detail: dict[str, Any] | None = None) -> int:
    """Append one audit record for ``user`` inside the caller's transaction."""
    return append(conn, username=user.username, role=user.role.value, action=action,
                  target=target, reason_code=reason_code, case_number=case_number,
                  outcome=outcome, detail=detail)


def to_model(row: Any) -> AuditRecord:
    return AuditRecord(id=row.id, at=db.as_utc(row.at), username=row.username,
                       role=Role(row.role) if row.role else None,
                       action=row.action, target=row.target, reason_code=row.reason_code,
                       case_number=row.case_number, outcome=row.outcome, detail=row.detail,
                       prev_hash=row.prev_hash, hash=row.hash)


def _rows(conn: Connection, page: int = 1000) -> Iterator[Any]:
    last = -1
    while True:
        rows = conn.execute(select(audit_log).where(audit_log.c.id > last)
                            .order_by(audit_log.c.id).limit(page)).all()
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1].id


def verify(conn: Connection) -> AuditVerify:
    """Walk the whole chain in id order; the first record that does not verify is named."""
    prev_hash, prev_id, count = GENESIS, None, 0
    for row in _rows(conn):
        count += 1
        values = {c: getattr(row, c) for c in ("at", "username", "role", "action", "target",
                                               "reason_code", "case_number", "outcome",
                                               "detail")}
        after = f"record {prev_id}" if prev_id is not None else "the start of the log"
        if row.prev_hash != prev_hash:
            return AuditVerify(ok=False, records=count, first_bad_id=row.id,
                               problem=f"record {row.id} does not follow {after}: a record "
                                       "was removed, reordered or rewritten before it")
        if chain_hash(prev_hash, row.id, values) != row.hash:
            return AuditVerify(ok=False, records=count, first_bad_id=row.id,
                               problem=f"record {row.id} was edited: its content does not "
                                       "match its hash")
        prev_hash, prev_id = row.hash, row.id
    return AuditVerify(ok=True, records=count)
