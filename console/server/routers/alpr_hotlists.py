"""``/api/v1/alpr/hotlists``: hotlists, their entries, file import and reject-rate stats.

Every change bumps the list's ``version`` in the same transaction (the match index
reloads that list on the next ingest) and is audited (no justification needed).
Import takes the raw file as the request body: ``POST /alpr/hotlists/{id}/import?
format=ncic|clew|csv&mode=replace|append&source=<file name>``; bad lines come back as
errors naming ``source:line`` and the field, the good ones are imported.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from console.importers.hotlists import parse_hotlist
from console.model import (
    HitStatus,
    Hotlist,
    HotlistEntry,
    HotlistEntryIn,
    HotlistFormat,
    HotlistImportResult,
    HotlistIn,
    HotlistStats,
    HotlistUpdate,
    User,
    normalize_plate,
)
from console.server import audit, db
from console.server.alpr_match import bump_version
from console.server.permissions import require
from console.server.routers import field_error
from console.server.routers.alpr import (
    fetch_hotlist,
    live_entries,
    sees_covert,
    to_entry,
    to_hotlist,
    visible_hotlists,
)
from console.server.tables_alpr import alpr_hits, alpr_hotlist_entries, alpr_hotlists

log = logging.getLogger("rtcc.server.alpr")

router = APIRouter(prefix="/api/v1/alpr", tags=["alpr"])

Reader = Annotated[User, Depends(require("hotlists.read"))]
Writer = Annotated[User, Depends(require("hotlists.write"))]
MAX_IMPORT_BYTES = 30 * 1024 * 1024  # the size limit of a Vigilant bulk upload
_FILE_FORMATS = [f for f in HotlistFormat if f is not HotlistFormat.manual]


def _check_covert(user: User, covert: bool | None) -> None:
    if covert and not sees_covert(user):
        raise field_error(("body", "covert"), f"role {user.role.value!r} may not manage "
                                              "covert hotlists", status.HTTP_403_FORBIDDEN)


def _duplicate(name: str) -> HTTPException:
    return field_error(("body", "name"), f"a hotlist named {name!r} exists",
                       status.HTTP_409_CONFLICT)


def _entry_values(hotlist_id: int, e: HotlistEntryIn) -> dict:
    return {"hotlist_id": hotlist_id, "plate": e.plate, "state": e.state,
            "list_type": e.list_type, "category": e.category, "reason": e.reason, "nic": e.nic,
            "ori": e.ori, "entered_date": e.entered_date, "expires": e.expires,
            "vehicle_year": e.vehicle_year, "make": e.make, "model": e.model, "color": e.color,
            "extra": e.extra}


@router.get("/hotlists", response_model=list[Hotlist])
def list_hotlists(request: Request, user: Reader) -> list[Hotlist]:
    counts = (select(alpr_hotlist_entries.c.hotlist_id, func.count().label("n"))
              .group_by(alpr_hotlist_entries.c.hotlist_id).subquery())
    q = (visible_hotlists(select(alpr_hotlists, counts.c.n), user)
         .outerjoin(counts, counts.c.hotlist_id == alpr_hotlists.c.id)
         .order_by(alpr_hotlists.c.priority.desc(), alpr_hotlists.c.name))
    with request.app.state.engine.connect() as conn:
        return [to_hotlist(r, r.n or 0) for r in conn.execute(q)]


@router.post("/hotlists", response_model=Hotlist, status_code=status.HTTP_201_CREATED)
def create_hotlist(body: HotlistIn, request: Request, user: Writer) -> Hotlist:
    _check_covert(user, body.covert)
    now = db.utcnow()
    try:
        with request.app.state.engine.begin() as conn:
            new_id = conn.execute(insert(alpr_hotlists).values(
                **body.model_dump(), version=1, created_at=now, updated_at=now,
                updated_by=user.username).returning(alpr_hotlists.c.id)).scalar_one()
            audit.record(conn, user=user, action="alpr.hotlist.create",
                         target=f"alpr_hotlist:{new_id}", detail=body.model_dump(mode="json"))
            hotlist = fetch_hotlist(conn, new_id, user)
    except IntegrityError:
        raise _duplicate(body.name) from None
    log.info("hotlist %d %r created by %s", hotlist.id, hotlist.name, user.username)
    return hotlist


@router.get("/hotlists/stats", response_model=list[HotlistStats])
def hotlist_stats(request: Request, user: Reader) -> list[HotlistStats]:
    """Hits per hotlist by status, and the reject rate of the disposed ones."""
    def n(status_: HitStatus):
        return func.coalesce(func.sum(case((alpr_hits.c.status == status_.value, 1), else_=0)),
                             0)

    q = (visible_hotlists(select(alpr_hotlists.c.id, alpr_hotlists.c.name,
                                 func.count(alpr_hits.c.id).label("hits"),
                                 n(HitStatus.accepted).label("accepted"),
                                 n(HitStatus.rejected).label("rejected"),
                                 n(HitStatus.pending).label("pending")), user)
         .outerjoin(alpr_hits, alpr_hits.c.hotlist_id == alpr_hotlists.c.id)
         .group_by(alpr_hotlists.c.id, alpr_hotlists.c.name).order_by(alpr_hotlists.c.id))
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [HotlistStats(hotlist_id=r.id, name=r.name, hits=r.hits, accepted=r.accepted,
                         rejected=r.rejected, pending=r.pending,
                         reject_rate=(r.rejected / (r.accepted + r.rejected)
                                      if r.accepted + r.rejected else None)) for r in rows]


@router.get("/hotlists/{hotlist_id}", response_model=Hotlist)
def get_hotlist(hotlist_id: int, request: Request, user: Reader) -> Hotlist:
    with request.app.state.engine.connect() as conn:
        return fetch_hotlist(conn, hotlist_id, user)


@router.patch("/hotlists/{hotlist_id}", response_model=Hotlist)
def update_hotlist(hotlist_id: int, body: HotlistUpdate, request: Request,
                   user: Writer) -> Hotlist:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    _check_covert(user, changes.get("covert"))
    try:
        with request.app.state.engine.begin() as conn:
            fetch_hotlist(conn, hotlist_id, user)  # 404
            if changes:
                conn.execute(update(alpr_hotlists).where(alpr_hotlists.c.id == hotlist_id)
                             .values(**changes))
                bump_version(conn, hotlist_id, user.username)
                audit.record(conn, user=user, action="alpr.hotlist.update",
                             target=f"alpr_hotlist:{hotlist_id}",
                             detail=body.model_dump(mode="json", exclude_unset=True))
            hotlist = fetch_hotlist(conn, hotlist_id, user)
    except IntegrityError:
        raise _duplicate(body.name or "") from None
    return hotlist


@router.delete("/hotlists/{hotlist_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_hotlist(hotlist_id: int, request: Request, user: Writer) -> None:
    with request.app.state.engine.begin() as conn:
        hotlist = fetch_hotlist(conn, hotlist_id, user)
        hits = conn.execute(select(func.count()).select_from(alpr_hits)
                            .where(alpr_hits.c.hotlist_id == hotlist_id)).scalar_one()
        if hits:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"hotlist {hotlist_id} has {hits} hits on record: deactivate "
                                "it (PATCH active=false) instead of deleting it")
        conn.execute(delete(alpr_hotlist_entries)
                     .where(alpr_hotlist_entries.c.hotlist_id == hotlist_id))
        conn.execute(delete(alpr_hotlists).where(alpr_hotlists.c.id == hotlist_id))
        audit.record(conn, user=user, action="alpr.hotlist.delete",
                     target=f"alpr_hotlist:{hotlist_id}", detail={"name": hotlist.name})
    log.info("hotlist %d %r deleted by %s", hotlist_id, hotlist.name, user.username)


def _decode(raw: bytes) -> str:
    if not raw:
        raise field_error(("body",), "empty body: send the hotlist file as the request body")
    if len(raw) > MAX_IMPORT_BYTES:
        raise field_error(("body",), f"{len(raw)} bytes: the limit is {MAX_IMPORT_BYTES}",
                          status.HTTP_413_CONTENT_TOO_LARGE)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise field_error(("body",), f"not UTF-8 text: byte {exc.start} (line {line})") from None


@router.post("/hotlists/{hotlist_id}/import", response_model=HotlistImportResult,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/plain": {"schema": {"type": "string"}}}}})
async def import_hotlist(
    hotlist_id: int, request: Request, user: Writer,
    format: Annotated[HotlistFormat | None, Query(
        description="ncic, clew or csv; default: the hotlist's source_format")] = None,
    mode: Annotated[Literal["replace", "append"], Query(
        description="replace: the file is the whole list; append: add to it")] = "replace",
    source: Annotated[str, Query(max_length=200,
                                 description="file name (CLEW: svs/sfr/slr sets the category)")]
    = "",
    expires: Annotated[datetime | None, Query(
        description="expiry for entries whose line has none")] = None,
) -> HotlistImportResult:
    text = _decode(await request.body())
    return await run_in_threadpool(_import, request, hotlist_id, user, text, format, mode,
                                   source, expires)


def _import(request: Request, hotlist_id: int, user: User, text: str,
            fmt: HotlistFormat | None, mode: str, source: str,
            expires: datetime | None) -> HotlistImportResult:
    with request.app.state.engine.begin() as conn:
        hotlist = fetch_hotlist(conn, hotlist_id, user)
        fmt = fmt or hotlist.source_format
        if fmt not in _FILE_FORMATS:
            raise field_error(("query", "format"), f"format {fmt.value!r}: give one of "
                              f"{', '.join(f.value for f in _FILE_FORMATS)}")
        result = parse_hotlist(fmt, text, source or f"{hotlist.name}.{fmt.value}")
        if expires is not None:
            default = db.as_utc(expires)
            result.entries = [e if e.expires else e.model_copy(update={"expires": default})
                              for e in result.entries]
        removed = 0
        if mode == "replace":
            removed = conn.execute(delete(alpr_hotlist_entries).where(
                alpr_hotlist_entries.c.hotlist_id == hotlist_id)).rowcount
        if result.entries:
            conn.execute(insert(alpr_hotlist_entries),
                         [_entry_values(hotlist_id, e) for e in result.entries])
        version = bump_version(conn, hotlist_id, user.username)
        audit.record(conn, user=user, action="alpr.hotlist.import",
                     target=f"alpr_hotlist:{hotlist_id}",
                     outcome="ok" if not result.errors else "partial",
                     detail={"format": fmt.value, "mode": mode, "source": source,
                             "imported": len(result.entries), "removed": removed,
                             "errors": len(result.errors)})
    log.info("hotlist %d: %s import by %s: %d entries, %d bad lines", hotlist_id, fmt.value,
             user.username, len(result.entries), len(result.errors))
    return HotlistImportResult(hotlist_id=hotlist_id, imported=len(result.entries),
                               removed=removed, errors=result.errors, version=version)


@router.get("/hotlists/{hotlist_id}/entries", response_model=list[HotlistEntry])
def list_entries(hotlist_id: int, request: Request, user: Reader,
                 limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                 offset: Annotated[int, Query(ge=0)] = 0) -> list[HotlistEntry]:
    with request.app.state.engine.connect() as conn:
        hotlist = fetch_hotlist(conn, hotlist_id, user)
        rows = conn.execute(select(alpr_hotlist_entries)
                            .where(alpr_hotlist_entries.c.hotlist_id == hotlist_id)
                            .order_by(alpr_hotlist_entries.c.id).limit(limit).offset(offset))
        return [to_entry(r, hotlist.active) for r in rows]


@router.get("/hotlists/{hotlist_id}/entries/{plate}", response_model=list[HotlistEntry],
            responses={404: {"description": "no such hotlist, or the plate is not on it"}})
def plate_entries(hotlist_id: int, plate: str, request: Request,
                  user: Reader) -> list[HotlistEntry]:
    """The list's current entries for a plate, each with ``active`` (the console's
    "entry still active" re-check before it accepts a hit)."""
    try:
        wanted = normalize_plate(plate)
    except ValueError as exc:
        raise field_error(("path", "plate"), str(exc)) from None
    with request.app.state.engine.connect() as conn:
        found = live_entries(conn, fetch_hotlist(conn, hotlist_id, user), wanted)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"plate {wanted} is not on hotlist {hotlist_id}")
    return found


@router.post("/hotlists/{hotlist_id}/entries", response_model=HotlistEntry,
             status_code=status.HTTP_201_CREATED)
def add_entry(hotlist_id: int, body: HotlistEntryIn, request: Request,
              user: Writer) -> HotlistEntry:
    with request.app.state.engine.begin() as conn:
        hotlist = fetch_hotlist(conn, hotlist_id, user)
        new_id = conn.execute(insert(alpr_hotlist_entries)
                              .values(**_entry_values(hotlist_id, body))
                              .returning(alpr_hotlist_entries.c.id)).scalar_one()
        bump_version(conn, hotlist_id, user.username)
        audit.record(conn, user=user, action="alpr.hotlist.entry.add",
                     target=f"alpr_hotlist:{hotlist_id}",
                     detail={"entry_id": new_id, "plate": body.plate})
        return _entry(conn, hotlist.active, new_id)


def _entry(conn: Connection, hotlist_active: bool, entry_id: int) -> HotlistEntry:
    row = conn.execute(select(alpr_hotlist_entries)
                       .where(alpr_hotlist_entries.c.id == entry_id)).one()
    return to_entry(row, hotlist_active)


@router.delete("/hotlists/{hotlist_id}/entries/{entry_id}",
               status_code=status.HTTP_204_NO_CONTENT)
def delete_entry(hotlist_id: int, entry_id: int, request: Request, user: Writer) -> None:
    with request.app.state.engine.begin() as conn:
        fetch_hotlist(conn, hotlist_id, user)
        gone = conn.execute(delete(alpr_hotlist_entries).where(
            alpr_hotlist_entries.c.hotlist_id == hotlist_id,
            alpr_hotlist_entries.c.id == entry_id)).rowcount
        if not gone:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"no entry {entry_id} on hotlist {hotlist_id}")
        bump_version(conn, hotlist_id, user.username)
        audit.record(conn, user=user, action="alpr.hotlist.entry.delete",
                     target=f"alpr_hotlist:{hotlist_id}", detail={"entry_id": entry_id})
