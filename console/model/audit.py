"""Wire models of the audit trail (``GET /api/v1/audit``) and its controlled vocabulary.

``ReasonCode`` is the controlled list a sensitive call must name (plate search, PTZ
takeover, private-camera view, playback URL, export, hit disposition, layout push),
together with a case number matching ``CASE_NUMBER_PATTERN``.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from console.model.core import Role, Wire

__all__ = ["CASE_NUMBER_PATTERN", "AuditRecord", "AuditVerify", "ReasonCode"]

# Agency case/incident numbers: "DR-2025-001234", "250412345", "LA12345".
CASE_NUMBER_PATTERN = r"^[A-Z0-9][A-Z0-9-]{3,31}$"


class ReasonCode(StrEnum):
    investigation = "investigation"            # open criminal investigation
    active_incident = "active-incident"        # incident in progress
    hotlist_hit = "hotlist-hit"                # following up an ALPR hotlist hit
    bolo = "bolo"                              # be-on-the-lookout bulletin
    amber_alert = "amber-alert"
    missing_person = "missing-person"
    officer_safety = "officer-safety"
    warrant = "warrant"                        # court order / search warrant
    supervisor_directive = "supervisor-directive"
    evidence_request = "evidence-request"      # DA / court discovery, records request
    training = "training"                      # sanctioned training exercise
    audit_review = "audit-review"              # compliance review by an auditor


class AuditRecord(Wire):
    """One append-only, hash-chained audit row: ``hash = sha256(prev_hash + canonical
    JSON of the other fields)``; the first row's ``prev_hash`` is 64 zeros."""

    id: int
    at: datetime
    username: str
    role: Role | None = None  # None: failed login of an unknown user
    action: str
    target: str
    reason_code: str | None = None
    case_number: str | None = None
    outcome: str = "ok"
    detail: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str


class AuditVerify(Wire):
    """Result of checking the whole chain; ``first_bad_id`` names the first record that
    does not verify (edited, or the link to its predecessor is broken)."""

    ok: bool
    records: int
    first_bad_id: int | None = None
    problem: str | None = None
