"""Wire models of ALPR: hotlists and their entries, reads, hits and their disposition.

Plates are normalised everywhere (upper case, no spaces or dashes: ``normalize_plate``).
A *hit* keeps a snapshot of the hotlist entry it matched, so it stays readable after the
list is re-imported; the disposition's "entry still active" is re-checked against the
current list (by hotlist and plate), not against that snapshot.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from console.model.audit import CASE_NUMBER_PATTERN, ReasonCode
from console.model.core import Wire

__all__ = [
    "NCIC_CATEGORIES",
    "AlprHit",
    "AlprIngestResult",
    "AlprRead",
    "AlprReadBatch",
    "AlprReadIn",
    "AlprSearchResult",
    "HitDisposition",
    "HitDispositionIn",
    "HitStatus",
    "Hotlist",
    "HotlistEntry",
    "HotlistEntryIn",
    "HotlistFormat",
    "HotlistImportIssue",
    "HotlistImportResult",
    "HotlistIn",
    "HotlistStats",
    "HotlistUpdate",
    "Plate",
    "RejectReason",
    "normalize_plate",
]

# NCIC LPR extract record type (first letter of the NIC) -> category; B and N are the Texas
# variant's additions (HOTLIST_FORMATS.md).
NCIC_CATEGORIES: dict[str, str] = {
    "A": "Amber alert", "F": "Felony vehicle", "W": "Wanted person", "V": "Stolen vehicle",
    "P": "Stolen plate", "M": "Missing person", "C": "Supervised release",
    "H": "Protection order", "K": "Protective interest", "L": "Violent person",
    "R": "Stolen Canadian vehicle", "T": "Gang/terrorist", "X": "Sex offender",
    "B": "Stolen boat", "N": "Deported felon",
}

_PLATE_RE = re.compile(r"^[A-Z0-9]{1,10}$")
_STRIP = str.maketrans("", "", " -\t")


def normalize_plate(value: str) -> str:
    """Upper case without spaces or dashes; ``ValueError`` unless 1-10 letters/digits remain."""
    plate = value.translate(_STRIP).upper()
    if not _PLATE_RE.match(plate):
        raise ValueError(f"plate {value!r}: expected 1-10 letters or digits "
                         "(spaces and dashes are ignored)")
    return plate


def _state(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    state = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", state):
        raise ValueError(f"state {value!r}: expected a 2-letter code such as CA")
    return state


def _utc(value: datetime) -> datetime:
    """Naive times are taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Plate = Annotated[str, AfterValidator(normalize_plate)]
StateCode = Annotated[str | None, AfterValidator(_state)]
UtcTime = Annotated[datetime, AfterValidator(_utc)]
# Reads are validated entirely inside pydantic-core (a Python validator per field would
# halve the ingest rate): the camera sends the plate as read, letters and digits only.
ReadPlate = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z0-9]{1,10}$")]
ReadState = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$")]
# no control characters (PostgreSQL cannot store NUL in text)
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class HotlistFormat(StrEnum):
    ncic = "ncic"      # NCIC LPR extract, fixed width
    clew = "clew"      # California DOJ CLEW svs/sfr/slr .tbl
    csv = "csv"        # the neutral CSV (see console.importers.hotlists)
    manual = "manual"  # entries added one by one


class HotlistIn(Wire):
    name: str = Field(min_length=1, max_length=200)
    source_format: HotlistFormat = HotlistFormat.manual
    priority: int = Field(default=50, ge=0, le=100)  # higher wins when a plate is on several
    covert: bool = False  # the list and its hits are shown only to roles with alpr.covert
    active: bool = True
    description: str = Field(default="", max_length=2000)


class HotlistUpdate(Wire):
    """Partial update: only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    source_format: HotlistFormat | None = None
    priority: int | None = Field(default=None, ge=0, le=100)
    covert: bool | None = None
    active: bool | None = None
    description: str | None = Field(default=None, max_length=2000)


class Hotlist(HotlistIn):
    id: int
    version: int  # bumped by every change of the list or its entries
    entry_count: int = 0
    created_at: datetime
    updated_at: datetime
    updated_by: str = ""


class HotlistEntryIn(Wire):
    plate: Plate
    state: StateCode = None
    list_type: str = Field(default="", max_length=8)  # NCIC record type letter when known
    category: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=500)  # why the plate is wanted
    nic: str = Field(default="", max_length=20)
    ori: str = Field(default="", max_length=20)
    entered_date: date | None = None
    expires: UtcTime | None = None  # None: until removed
    vehicle_year: int | None = Field(default=None, ge=1900, le=2100)
    make: str = Field(default="", max_length=40)
    model: str = Field(default="", max_length=40)
    color: str = Field(default="", max_length=40)
    extra: dict[str, str] = Field(default_factory=dict)  # format-specific (county, style, ...)


class HotlistEntry(HotlistEntryIn):
    id: int
    hotlist_id: int
    active: bool  # the entry is unexpired and its hotlist is active


class HotlistImportIssue(Wire):
    source: str
    line: int
    field: str
    message: str


class HotlistImportResult(Wire):
    hotlist_id: int
    imported: int
    removed: int = 0  # entries dropped first by mode=replace
    errors: list[HotlistImportIssue] = Field(default_factory=list)
    version: int


class HotlistStats(Wire):
    hotlist_id: int
    name: str
    hits: int
    accepted: int
    rejected: int
    pending: int
    reject_rate: float | None  # rejected / (accepted + rejected); None before any disposition


class AlprReadIn(Wire):
    """One plate read. ``read_at`` must carry its UTC offset; the server stores UTC."""

    device_id: str = Field(min_length=1, max_length=64, pattern=_PRINTABLE)
    plate: ReadPlate
    state: ReadState | None = None
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    read_at: AwareDatetime = Field(ge=datetime(2000, 1, 1, tzinfo=UTC),
                                   le=datetime(2100, 1, 1, tzinfo=UTC))
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    snapshot_url: str | None = Field(default=None, max_length=2000, pattern=_PRINTABLE)


class AlprReadBatch(Wire):
    reads: list[AlprReadIn] = Field(min_length=1, max_length=5000)


class AlprRead(AlprReadIn):
    id: int


class AlprIngestResult(Wire):
    accepted: int
    hit_ids: list[int] = Field(default_factory=list)


class AlprSearchResult(Wire):
    reads: list[AlprRead]
    truncated: bool  # more reads matched than ``limit``


class HitStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class RejectReason(StrEnum):
    misread = "misread"              # the camera read the plate wrong
    wrong_state = "wrong_state"      # same characters, other state
    entry_inactive = "entry_inactive"  # cleared, expired or removed from the list
    duplicate = "duplicate"          # already handled
    other = "other"


class HitDispositionIn(Wire):
    """Accept needs every checklist box true (the server re-checks entry_still_active);
    reject needs ``reject_reason``. ``reason``/``case`` are the audit justification."""

    decision: Literal["accept", "reject"]
    plate_matches_image: bool
    state_matches: bool
    entry_still_active: bool
    reject_reason: RejectReason | None = None
    note: str = Field(default="", max_length=2000)
    reason: ReasonCode  # audit justification: controlled reason code
    case: str = Field(pattern=CASE_NUMBER_PATTERN)  # audit justification: case number


class HitDisposition(Wire):
    decision: Literal["accept", "reject"]
    plate_matches_image: bool
    state_matches: bool
    entry_still_active: bool
    reject_reason: RejectReason | None = None
    note: str = ""
    reason_code: str
    case_number: str
    by: str
    at: datetime


class AlprHit(Wire):
    id: int
    read_id: int
    status: HitStatus
    created_at: datetime
    # the read
    device_id: str
    plate: str
    read_state: str | None
    confidence: float
    read_at: datetime
    lat: float
    lon: float
    snapshot_url: str | None = None
    # the hotlist entry as it was when the hit was made
    hotlist_id: int
    hotlist_name: str
    priority: int
    covert: bool
    entry_id: int
    entry_state: str | None
    list_type: str = ""
    category: str = ""
    reason: str = ""
    nic: str = ""
    disposition: HitDisposition | None = None
