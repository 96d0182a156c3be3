"""Recordings: recorded time ranges of a camera, and playback of a range as MPEG-TS.

``GET /api/v1/cameras/{id}/recordings`` lists merged ranges. ``GET .../recordings/media``
(reason + case required; audited: playback is sensitive) answers a ``RecordingUrl``: a
short-lived URL ``/api/v1/recordings/{id}/{profile}.ts?start_ms=&end_ms=&token=`` whose
token (``console.server.media.tokens``) is bound to the camera, profile AND range, so it
plays exactly what was justified. That route is exempt from bearer auth (like the live
media route) and serves the overlapping segments concatenated, cut at the keyframes
around the range.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection, select

from console.model import (
    RecordedRange,
    Recordings,
    RecordingUrl,
    StreamProfileName,
    User,
)
from console.server import audit, db
from console.server.audit import Justification, query_justification
from console.server.media import tokens
from console.server.media.recorder import recordings_root
from console.server.media.tsparse import PACKET
from console.server.permissions import require, require_dep
from console.server.routers import field_error
from console.server.tables_ptz import recordings

log = logging.getLogger("rtcc.server.recordings")

router = APIRouter(prefix="/api/v1", tags=["recordings"])

MERGE_GAP_S = 1.0
MAX_RANGE_S = 12 * 3600.0
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_READ = 256 * 1024


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise field_error(("query", name), "needs a time zone (e.g. 2025-01-01T12:00:00Z)")


def _camera_exists(conn: Connection, camera_id: str) -> None:
    if conn.execute(select(db.cameras.c.id).where(db.cameras.c.id == camera_id)).first() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {camera_id!r}")


def _segments(conn: Connection, camera_id: str, profile: str, start: datetime | None,
              end: datetime | None) -> list[Any]:
    q = select(recordings).where(recordings.c.camera_id == camera_id,
                                 recordings.c.profile == profile)
    if start is not None:
        q = q.where(recordings.c.end > start)
    if end is not None:
        q = q.where(recordings.c.start < end)
    return conn.execute(q.order_by(recordings.c.start)).all()


def merge(spans: list[tuple[datetime, datetime]], gap_s: float = MERGE_GAP_S) -> list[RecordedRange]:
    """Sorted spans -> ranges; spans closer than gap_s are joined."""
    out: list[RecordedRange] = []
    for s, e in spans:
        if out and (s - out[-1].end).total_seconds() <= gap_s:
            out[-1].end = max(out[-1].end, e)
        else:
            out.append(RecordedRange(start=s, end=e))
    return out


@router.get("/cameras/{camera_id}/recordings", response_model=Recordings,
            dependencies=[require_dep("recordings.read")])
def recorded_ranges(camera_id: str, request: Request, profile: StreamProfileName = "sub",
                    start: datetime | None = None, end: datetime | None = None) -> Recordings:
    _aware("start", start)
    _aware("end", end)
    with request.app.state.engine.connect() as conn:
        _camera_exists(conn, camera_id)
        rows = _segments(conn, camera_id, profile, start, end)
    spans = [(db.as_utc(r.start), db.as_utc(r.end)) for r in rows]
    return Recordings(camera_id=camera_id, profile=profile, ranges=merge(spans))


def _range_profile(profile: str, start_ms: int, end_ms: int) -> str:
    """What the token binds besides the camera: the stream and the exact range."""
    return f"rec.{profile}.{start_ms}.{end_ms}"


@router.get("/cameras/{camera_id}/recordings/media", response_model=RecordingUrl,
            responses={404: {"description": "no camera, or nothing recorded in the range"}})
def recording_url(camera_id: str, start: datetime, end: datetime, request: Request,
                  user: Annotated[User, Depends(require("recordings.play"))],
                  just: Annotated[Justification, Depends(query_justification)],
                  profile: StreamProfileName = "sub") -> RecordingUrl:
    """A playback URL for [start, end] (reason + case required; audited)."""
    _aware("start", start)
    _aware("end", end)
    if end <= start:
        raise field_error(("query", "end"), "must be after start")
    if (end - start).total_seconds() > MAX_RANGE_S:
        raise field_error(("query", "end"), f"range longer than {MAX_RANGE_S / 3600:g} h")
    settings = request.app.state.settings
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    with request.app.state.engine.begin() as conn:
        _camera_exists(conn, camera_id)
        found = bool(_segments(conn, camera_id, profile, start, end))
        audit.record(conn, user=user, action="recording.playback_url",
                     target=f"camera:{camera_id}", reason_code=just.reason.value,
                     case_number=just.case, outcome="ok" if found else "not found",
                     detail={"profile": profile, "start": start.isoformat(),
                             "end": end.isoformat()})
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"camera {camera_id!r} has no {profile} recording between "
                            f"{start.isoformat()} and {end.isoformat()}")
    now = time.time()
    token = tokens.issue(settings.media_secret, camera_id, _range_profile(profile, start_ms, end_ms),
                         ttl_s=settings.stream_token_ttl_s, now=now)
    url = (f"{request.base_url}api/v1/recordings/{quote(camera_id, safe='')}/{profile}.ts"
           f"?start_ms={start_ms}&end_ms={end_ms}&token={quote(token, safe='')}")
    return RecordingUrl(camera_id=camera_id, profile=profile, start=start, end=end, url=url,
                        expires_at=datetime.fromtimestamp(now + settings.stream_token_ttl_s, UTC))


@dataclass(frozen=True)
class Piece:
    path: Path
    begin: int  # byte offsets in the file
    end: int
    head: bool  # prepend the file's PAT+PMT (the piece starts mid-file)


def plan(rows: list[Any], root: Path, start: float, end: float) -> list[Piece]:
    """Byte ranges of the segment files that cover [start, end] (unix s), cut at keyframes:
    from the last keyframe at or before start, to the first keyframe at or after end."""
    pieces = []
    for r in rows:
        path = root / r.path
        if not path.is_file():
            log.warning("recording segment %s is indexed but missing", path)
            continue
        size = path.stat().st_size
        seg_start = db.as_utc(r.start).timestamp()
        keys = [(int(o), seg_start + t) for o, t in r.keyframes]
        begin = max([o for o, t in keys if t <= start], default=0)
        stop = min([o for o, t in keys if t >= end and o > begin], default=size)
        pieces.append(Piece(path, begin, stop, head=begin > 0))
    return pieces


def _stream(pieces: list[Piece]) -> Iterator[bytes]:
    for p in pieces:
        with p.path.open("rb") as f:
            if p.head:
                yield f.read(2 * PACKET)
            f.seek(p.begin)
            left = p.end - p.begin
            while left > 0:
                data = f.read(min(_READ, left))
                if not data:
                    break
                left -= len(data)
                yield data


@router.get("/recordings/{camera_id}/{profile}.ts", response_class=StreamingResponse,
            responses={401: {}, 404: {}})
def recorded_media(camera_id: str, profile: StreamProfileName, request: Request,
                   start_ms: Annotated[int, Query(ge=0, le=MAX_MS)],
                   end_ms: Annotated[int, Query(ge=0, le=MAX_MS)],
                   token: str | None = None) -> StreamingResponse:
    """Recorded MPEG-TS of [start_ms, end_ms] (token from ``.../recordings/media``)."""
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "media token missing")
    try:
        tokens.verify(request.app.state.settings.media_secret, token, camera_id,
                      _range_profile(profile, start_ms, end_ms))
    except tokens.TokenError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"media token {exc.reason}") from None
    start, end = start_ms / 1000, end_ms / 1000
    with request.app.state.engine.connect() as conn:
        rows = _segments(conn, camera_id, profile, datetime.fromtimestamp(start, UTC),
                         datetime.fromtimestamp(end, UTC))
    pieces = plan(rows, recordings_root(request.app.state.settings), start, end)
    if not pieces:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the recording is no longer available")
    length = sum(p.end - p.begin + (2 * PACKET if p.head else 0) for p in pieces)
    return StreamingResponse(_stream(pieces), media_type="video/mp2t",
                             headers={"Content-Length": str(length), "Cache-Control": "no-store"})
