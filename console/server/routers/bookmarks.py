"""``/api/v1/bookmarks``: marked time ranges of cameras; idempotent create, search, edit.

``POST`` honours an ``Idempotency-Key`` header: the first request with a key creates the
bookmark (201); a retry with the same key and the same body (and user) returns that same
bookmark (200) and creates nothing; the same key with a different body is refused (422
naming the header). That is what lets the console's outbox retry blindly.

Protected bookmarks (evidence) may be changed or deleted only by supervisors and admins;
others may delete only the unprotected bookmarks they created. Every change is audited and
published (``bookmark.created`` / ``.updated`` / ``.deleted``).
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from console.model import Bookmark, BookmarkIn, BookmarkUpdate, Role, User
from console.server import audit, db
from console.server.permissions import require, require_dep
from console.server.routers import field_error
from console.server.tables_ptz import bookmark_tags, bookmarks

log = logging.getLogger("rtcc.server.bookmarks")

router = APIRouter(prefix="/api/v1/bookmarks", tags=["bookmarks"])

BookmarkId = Annotated[int, Path(ge=1, le=2**62)]  # bounded: SQLite integers are 64-bit
EDITORS_OF_PROTECTED = frozenset({Role.supervisor, Role.admin})
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1,
                                              max_length=128, pattern=r"^[\x21-\x7e]+$")]


def _bookmark(row: Any) -> Bookmark:
    return Bookmark(id=row.id, camera_id=row.camera_id, start=db.as_utc(row.start),
                    end=db.as_utc(row.end), title=row.title, notes=row.notes, tags=row.tags,
                    case_number=row.case_number, protected=row.protected,
                    created_by=row.created_by, created_at=db.as_utc(row.created_at),
                    updated_by=row.updated_by,
                    updated_at=db.as_utc(row.updated_at) if row.updated_at else None,
                    version=row.version)


def _fetch(conn: Connection, bookmark_id: int) -> Bookmark:
    row = conn.execute(select(bookmarks).where(bookmarks.c.id == bookmark_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no bookmark {bookmark_id}")
    return _bookmark(row)


def _request_hash(user: User, body: BookmarkIn) -> str:
    text = json.dumps({"user": user.username, "body": body.model_dump(mode="json")},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(conn: Connection, key: str, digest: str) -> Bookmark | None:
    """The bookmark created earlier with ``key``, or None; 422 if the body differs."""
    row = conn.execute(select(bookmarks).where(bookmarks.c.idempotency_key == key)).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise field_error(("header", "Idempotency-Key"),
                          "this key was already used for a different bookmark request")
    return _bookmark(row)


def _set_tags(conn: Connection, bookmark_id: int, tags: list[str]) -> None:
    conn.execute(delete(bookmark_tags).where(bookmark_tags.c.bookmark_id == bookmark_id))
    unique = sorted(set(tags))
    if unique:
        conn.execute(insert(bookmark_tags), [{"bookmark_id": bookmark_id, "tag": t} for t in unique])


def _publish(request: Request, kind: str, data: dict[str, Any], conn: Connection) -> None:
    events = getattr(request.app.state, "events", None)
    if events is not None:
        events.publish(kind, data, conn=conn)


def _audit(conn: Connection, user: User, action: str, bm: Bookmark) -> None:
    audit.record(conn, user=user, action=action, target=f"bookmark:{bm.id}",
                 case_number=bm.case_number,
                 detail={"camera_id": bm.camera_id, "start": bm.start.isoformat(),
                         "end": bm.end.isoformat(), "protected": bm.protected})


@router.post("", response_model=Bookmark, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": Bookmark, "description": "replay of an earlier create"},
                        422: {"description": "invalid field, or key reused with another body"}})
def create_bookmark(body: BookmarkIn, request: Request, response: Response,
                    user: Annotated[User, Depends(require("bookmarks.write"))],
                    idempotency_key: IdempotencyKey = None) -> Bookmark:
    engine = request.app.state.engine
    digest = _request_hash(user, body)
    if idempotency_key is not None:
        with engine.connect() as conn:
            earlier = _replay(conn, idempotency_key, digest)
        if earlier is not None:
            response.status_code = status.HTTP_200_OK
            return earlier
    if body.start == "now":
        now = db.utcnow()
        start, end = now - timedelta(seconds=body.pre_roll_s), now + timedelta(seconds=body.post_roll_s)
    else:
        start, end = body.start, body.end
    try:
        with engine.begin() as conn:
            if conn.execute(select(db.cameras.c.id)
                            .where(db.cameras.c.id == body.camera_id)).first() is None:
                raise field_error(("body", "camera_id"), f"no camera {body.camera_id!r}")
            new_id = conn.execute(insert(bookmarks).values(
                idempotency_key=idempotency_key, request_hash=digest, camera_id=body.camera_id,
                start=start, end=end, title=body.title, notes=body.notes, tags=body.tags,
                case_number=body.case_number, protected=body.protected,
                created_by=user.username, created_at=db.utcnow(), version=1,
            ).returning(bookmarks.c.id)).scalar_one()
            _set_tags(conn, new_id, body.tags)
            bm = _fetch(conn, new_id)
            _audit(conn, user, "bookmark.create", bm)
            _publish(request, "bookmark.created", bm.model_dump(mode="json"), conn)
    except IntegrityError:
        # A concurrent request with the same key won the insert: answer as its replay.
        if idempotency_key is None:
            raise
        with engine.connect() as conn:
            earlier = _replay(conn, idempotency_key, digest)
        if earlier is None:
            raise
        response.status_code = status.HTTP_200_OK
        return earlier
    log.info("bookmark %d on %s created by %s", bm.id, bm.camera_id, user.username)
    return bm


@router.get("", response_model=list[Bookmark], dependencies=[require_dep("bookmarks.read")])
def search_bookmarks(
    request: Request,
    camera_id: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[datetime | None, Query(description="ranges ending at or after this")] = None,
    end: Annotated[datetime | None, Query(description="ranges starting at or before this")] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    case: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in title or notes")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[Bookmark]:
    """Newest first. Time filters select bookmarks overlapping [start, end]."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise field_error(("query", name), "needs a time zone (e.g. 2025-01-01T12:00:00Z)")
    where = []
    if camera_id is not None:
        where.append(bookmarks.c.camera_id == camera_id)
    if start is not None:
        where.append(bookmarks.c.end >= start)
    if end is not None:
        where.append(bookmarks.c.start <= end)
    if case is not None:
        where.append(bookmarks.c.case_number == case)
    if tag is not None:
        where.append(bookmarks.c.id.in_(select(bookmark_tags.c.bookmark_id)
                                        .where(bookmark_tags.c.tag == tag.strip())))
    if q:
        needle = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(or_(func.lower(bookmarks.c.title).like(needle, escape="\\"),
                         func.lower(bookmarks.c.notes).like(needle, escape="\\")))
    query = select(bookmarks).where(and_(*where)) if where else select(bookmarks)
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(query.order_by(bookmarks.c.start.desc(), bookmarks.c.id.desc())
                            .limit(limit).offset(offset)).all()
    return [_bookmark(r) for r in rows]


@router.get("/{bookmark_id}", response_model=Bookmark,
            dependencies=[require_dep("bookmarks.read")])
def get_bookmark(bookmark_id: BookmarkId, request: Request) -> Bookmark:
    with request.app.state.engine.connect() as conn:
        return _fetch(conn, bookmark_id)


def _guard_protected(user: User, bm: Bookmark, what: str) -> None:
    if bm.protected and user.role not in EDITORS_OF_PROTECTED:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"bookmark {bm.id} is protected: only a supervisor or admin may {what} it")


@router.put("/{bookmark_id}", response_model=Bookmark,
            responses={409: {"description": "If-Match version is stale"}})
def update_bookmark(bookmark_id: BookmarkId, body: BookmarkUpdate, request: Request,
                    user: Annotated[User, Depends(require("bookmarks.write"))],
                    if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> Bookmark:
    expected = _version(if_match)
    with request.app.state.engine.begin() as conn:
        old = _fetch(conn, bookmark_id)
        _guard_protected(user, old, "change")
        if expected is not None and old.version != expected:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"bookmark {bookmark_id} is at version {old.version}, not {expected}")
        done = conn.execute(update(bookmarks).where(bookmarks.c.id == bookmark_id,
                                                    bookmarks.c.version == old.version).values(
            start=body.start, end=body.end, title=body.title, notes=body.notes, tags=body.tags,
            case_number=body.case_number, protected=body.protected, updated_by=user.username,
            updated_at=db.utcnow(), version=old.version + 1)).rowcount
        if not done:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"bookmark {bookmark_id} changed concurrently; reload and retry")
        _set_tags(conn, bookmark_id, body.tags)
        bm = _fetch(conn, bookmark_id)
        _audit(conn, user, "bookmark.update", bm)
        _publish(request, "bookmark.updated", bm.model_dump(mode="json"), conn)
    return bm


def _version(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise field_error(("header", "If-Match"), f"expected a bookmark version, got {value!r}",
                          status.HTTP_400_BAD_REQUEST) from None


@router.delete("/{bookmark_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_bookmark(bookmark_id: BookmarkId, request: Request,
                    user: Annotated[User, Depends(require("bookmarks.delete"))]) -> Response:
    with request.app.state.engine.begin() as conn:
        bm = _fetch(conn, bookmark_id)
        _guard_protected(user, bm, "delete")
        if user.role not in EDITORS_OF_PROTECTED and bm.created_by != user.username:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"bookmark {bookmark_id} was created by {bm.created_by!r}: only "
                                "its creator, a supervisor or an admin may delete it")
        conn.execute(delete(bookmark_tags).where(bookmark_tags.c.bookmark_id == bookmark_id))
        conn.execute(delete(bookmarks).where(bookmarks.c.id == bookmark_id))
        _audit(conn, user, "bookmark.delete", bm)
        _publish(request, "bookmark.deleted", {"id": bm.id, "camera_id": bm.camera_id}, conn)
    log.info("bookmark %d deleted by %s", bookmark_id, user.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
