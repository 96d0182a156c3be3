"""``POST /api/v1/alpr/reads`` (batch ingest with hotlist matching) and
``GET /api/v1/alpr/search`` (audited plate search).

Ingest: the reads of a batch are matched against the in-memory hotlist index
(``console.server.alpr_match``) and stored in ONE transaction; reads without a match go in
with one executemany, a matching read is inserted alone (its id is needed), then one hit
per matching live entry, each published as ``alpr.hit`` (in the same transaction, so the
event is out only if the hit is stored).

Search refuses to run without a controlled ``reason`` code and a ``case`` number (422
naming the field); every search that runs is audited with its query and result count.
"""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection, insert, select

from console.geo import DivisionArea, load_divisions
from console.model import (
    AlprHit,
    AlprIngestResult,
    AlprRead,
    AlprReadBatch,
    AlprReadIn,
    AlprSearchResult,
    HitStatus,
    User,
)
from console.server import audit, db
from console.server.alpr_match import BulkInsert, HotlistIndex, IndexedEntry
from console.server.audit import Justification, query_justification
from console.server.permissions import require, require_dep
from console.server.routers import field_error
from console.server.routers.alpr import hit_event, hotlist_index
from console.server.tables_alpr import alpr_hits, alpr_reads

log = logging.getLogger("rtcc.server.alpr")

router = APIRouter(prefix="/api/v1/alpr", tags=["alpr"])

DIVISIONS_GEOJSON = Path(__file__).resolve().parents[3] / "resources" / "geo" / \
    "lapd_divisions.geojson"
_PLATE_QUERY = re.compile(r"^[A-Z0-9*?]{1,12}$")
_READ_COLUMNS = ("device_id", "plate", "state", "confidence", "read_at", "lat", "lon",
                 "snapshot_url")
_BULK_READS = BulkInsert(alpr_reads, _READ_COLUMNS)
ReadRow = tuple[str, str, str | None, float, datetime, float, float, str | None]


def _read_row(r: AlprReadIn) -> ReadRow:
    """The read as a row of ``_READ_COLUMNS`` (tuples: the hot path of ingest)."""
    return (r.device_id, r.plate, r.state, r.confidence, r.read_at.astimezone(UTC), r.lat,
            r.lon, r.snapshot_url)


def _hit_row(read: ReadRow, read_id: int, e: IndexedEntry, now: datetime) -> dict[str, Any]:
    device_id, plate, state, confidence, read_at, lat, lon, snapshot_url = read
    return {"read_id": read_id, "status": HitStatus.pending.value, "created_at": now,
            "device_id": device_id, "plate": plate, "read_state": state,
            "confidence": confidence, "read_at": read_at, "lat": lat, "lon": lon,
            "snapshot_url": snapshot_url, "hotlist_id": e.hotlist_id,
            "hotlist_name": e.hotlist_name, "priority": e.priority, "covert": e.covert,
            "entry_id": e.entry_id, "entry_state": e.state, "list_type": e.list_type,
            "category": e.category, "reason": e.reason, "nic": e.nic, "disposition": None}


def ingest(conn: Connection, index: HotlistIndex, events: Any,
           reads: list[AlprReadIn]) -> list[int]:
    """Store the reads and their hits in ``conn``'s transaction; returns the hit ids."""
    now = db.utcnow()
    index.refresh(conn)
    plain: list[ReadRow] = []
    matched: list[tuple[ReadRow, list[IndexedEntry]]] = []
    for r in reads:
        found = index.match(r.plate, now)
        if found:
            matched.append((_read_row(r), found))
        else:
            plain.append(_read_row(r))
    if plain:
        _BULK_READS.execute(conn, plain)
    hit_ids: list[int] = []
    for row, found in matched:
        read_id = conn.execute(insert(alpr_reads)
                               .values(dict(zip(_READ_COLUMNS, row, strict=True)))
                               .returning(alpr_reads.c.id)).scalar_one()
        for entry in found:
            values = _hit_row(row, read_id, entry, now)
            hit_id = conn.execute(insert(alpr_hits).values(**values)
                                  .returning(alpr_hits.c.id)).scalar_one()
            hit = AlprHit.model_validate({**values, "id": hit_id})
            events.publish("alpr.hit", hit_event(hit), conn=conn)
            hit_ids.append(hit_id)
    return hit_ids


@router.post("/reads", response_model=AlprIngestResult,
             dependencies=[require_dep("alpr.ingest")])
def ingest_reads(body: AlprReadBatch, request: Request) -> AlprIngestResult:
    """Store a batch of reads (1-5,000); reads matching a live hotlist entry make hits."""
    with request.app.state.engine.begin() as conn:
        hit_ids = ingest(conn, hotlist_index(request), request.app.state.events, body.reads)
    if hit_ids:
        log.info("alpr: %d reads, hits %s", len(body.reads), hit_ids)
    return AlprIngestResult(accepted=len(body.reads), hit_ids=hit_ids)


@lru_cache(maxsize=1)
def _divisions() -> dict[int, DivisionArea]:
    return {d.division.area: d for d in load_divisions(DIVISIONS_GEOJSON)}


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise field_error(("query", "bbox"), f"{text[:80]!r}: expected min_lon,min_lat,"
                                             "max_lon,max_lat") from None
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise field_error(("query", "bbox"), f"{text[:80]!r}: need min <= max, lon within "
                                             "±180 and lat within ±90")
    return x0, y0, x1, y1


def _plate_filter(text: str):
    """``*`` any run, ``?`` one character; no wildcard: the text anywhere in the plate."""
    pattern = text.translate(str.maketrans("", "", " -")).upper()
    if not _PLATE_QUERY.match(pattern):
        raise field_error(("query", "plate"), f"{text[:40]!r}: letters, digits and the "
                                              "wildcards * and ? (1-12 characters)")
    if "*" in pattern or "?" in pattern:
        return alpr_reads.c.plate.like(pattern.replace("*", "%").replace("?", "_"))
    return alpr_reads.c.plate.contains(pattern)


def _read(row: Any) -> AlprRead:
    return AlprRead(id=row.id, device_id=row.device_id, plate=row.plate, state=row.state,
                    confidence=row.confidence, read_at=db.as_utc(row.read_at), lat=row.lat,
                    lon=row.lon, snapshot_url=row.snapshot_url)


@router.get("/search", response_model=AlprSearchResult)
def search_reads(
    request: Request,
    user: Annotated[User, Depends(require("alpr.search"))],
    just: Annotated[Justification, Depends(query_justification)],
    plate: Annotated[str | None, Query(max_length=40, description=(
        "full or partial plate: * and ? wildcards, otherwise a substring"))] = None,
    since: Annotated[datetime | None, Query(description="read at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="read before (ISO 8601)")] = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    division: Annotated[int | None, Query(ge=1, le=21, description="LAPD Area 1-21")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> AlprSearchResult:
    """Reads matching every filter given, newest first. A plate or an area is required."""
    if not plate and bbox is None and division is None:
        raise field_error(("query", "plate"), "give a plate (or partial plate), a bbox or a "
                                              "division")
    q = select(alpr_reads)
    if plate:
        q = q.where(_plate_filter(plate))
    if since is not None:
        q = q.where(alpr_reads.c.read_at >= db.as_utc(since))
    if until is not None:
        q = q.where(alpr_reads.c.read_at < db.as_utc(until))
    area = _divisions()[division] if division is not None else None
    boxes = [b for b in (_bbox(bbox) if bbox else None, area.bbox if area else None) if b]
    for x0, y0, x1, y1 in boxes:
        q = q.where(alpr_reads.c.lon.between(x0, x1), alpr_reads.c.lat.between(y0, y1))
    q = q.order_by(alpr_reads.c.read_at.desc(), alpr_reads.c.id.desc())
    if area is None:
        q = q.limit(limit + 1)
    found: list[AlprRead] = []
    with request.app.state.engine.connect() as conn:
        result = conn.execute(q.execution_options(yield_per=1000))
        try:
            # the division's polygon is tested here, on the rows its bounding box let through
            for row in result:
                if area is None or area.contains(row.lat, row.lon):
                    found.append(_read(row))
                    if len(found) > limit:
                        break
        finally:
            result.close()
    truncated = len(found) > limit
    del found[limit:]
    query = {"plate": plate, "since": since.isoformat() if since else None,
             "until": until.isoformat() if until else None, "bbox": bbox,
             "division": division, "limit": limit}
    # audited after the read-only query, before anything is returned
    with request.app.state.engine.begin() as conn:
        audit.record(conn, user=user, action="alpr.search", target=f"plate:{plate or '*'}",
                     reason_code=just.reason.value, case_number=just.case,
                     detail={"query": query, "results": len(found), "truncated": truncated})
    log.info("alpr search by %s (%s, case %s): %d reads", user.username, just.reason.value,
             just.case, len(found))
    return AlprSearchResult(reads=found, truncated=truncated)
