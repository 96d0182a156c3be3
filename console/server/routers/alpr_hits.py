"""``/api/v1/alpr/hits``: the hit queue and its disposition.

``POST /alpr/hits/{id}/disposition``: accept only with every checklist box true
(``plate_matches_image``, ``state_matches``, ``entry_still_active``) AND the server's own
re-check that the plate is still on the hotlist, unexpired, with the list active (else
422 naming ``entry_still_active``; that refusal is audited too). Reject needs a
``reject_reason``. Audited with the reason code and case number; publishes
``alpr.hit.updated``. A hit is disposed once (409 after).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from sqlalchemy import Connection, select, update

from console.model import AlprHit, HitDisposition, HitDispositionIn, HitStatus, User
from console.server import audit, db
from console.server.permissions import require
from console.server.routers import field_error
from console.server.routers.alpr import (
    fetch_hit,
    hit_event,
    live_entries,
    to_hit,
    to_hotlist,
    visible_hits,
)
from console.server.tables_alpr import alpr_hits, alpr_hotlists

log = logging.getLogger("rtcc.server.alpr")

router = APIRouter(prefix="/api/v1/alpr", tags=["alpr"])

Reader = Annotated[User, Depends(require("hits.read"))]
CHECKLIST = ("plate_matches_image", "state_matches", "entry_still_active")


@router.get("/hits", response_model=list[AlprHit])
def list_hits(
    request: Request, user: Reader,
    status_: Annotated[HitStatus | None, Query(alias="status")] = None,
    hotlist_id: int | None = None,
    plate: Annotated[str | None, Query(max_length=10)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="created at or after")] = None,
    until: Annotated[datetime | None, Query(description="created before")] = None,
    before_id: Annotated[int | None, Query(description="page: hits older than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlprHit]:
    """Newest first; covert hits only for roles with ``alpr.covert``."""
    q = visible_hits(select(alpr_hits), user)
    if status_ is not None:
        q = q.where(alpr_hits.c.status == status_.value)
    if hotlist_id is not None:
        q = q.where(alpr_hits.c.hotlist_id == hotlist_id)
    if plate:
        q = q.where(alpr_hits.c.plate == plate.replace(" ", "").replace("-", "").upper())
    if device_id:
        q = q.where(alpr_hits.c.device_id == device_id)
    if since is not None:
        q = q.where(alpr_hits.c.created_at >= db.as_utc(since))
    if until is not None:
        q = q.where(alpr_hits.c.created_at < db.as_utc(until))
    if before_id is not None:
        q = q.where(alpr_hits.c.id < before_id)
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(q.order_by(alpr_hits.c.id.desc()).limit(limit)).all()
    return [to_hit(r) for r in rows]


@router.get("/hits/{hit_id}", response_model=AlprHit)
def get_hit(hit_id: int, request: Request, user: Reader) -> AlprHit:
    with request.app.state.engine.connect() as conn:
        return fetch_hit(conn, hit_id, user)


def entry_still_active(conn: Connection, hit: AlprHit) -> bool:
    """The server's re-check: the plate is on the hit's hotlist now, unexpired, list active."""
    row = conn.execute(select(alpr_hotlists)
                       .where(alpr_hotlists.c.id == hit.hotlist_id)).first()
    return row is not None and any(e.active for e in live_entries(conn, to_hotlist(row, 0),
                                                                  hit.plate))


@router.post("/hits/{hit_id}/disposition", response_model=AlprHit,
             responses={409: {"description": "the hit was already disposed"},
                        422: {"description": "checklist incomplete, entry no longer active, "
                                             "or reject without reject_reason"}})
def dispose_hit(hit_id: int, body: HitDispositionIn, request: Request,
                user: Annotated[User, Depends(require("hits.dispose"))]) -> AlprHit:
    if body.decision == "accept":
        unchecked = [f for f in CHECKLIST if not getattr(body, f)]
        if unchecked:
            raise field_error(("body", unchecked[0]), "accept needs every checklist item "
                              f"true; not checked: {', '.join(unchecked)}")
    elif body.reject_reason is None:
        raise field_error(("body", "reject_reason"), "reject needs a reject_reason")
    target = f"alpr_hit:{hit_id}"
    with request.app.state.engine.begin() as conn:
        hit = fetch_hit(conn, hit_id, user)
        if hit.status is not HitStatus.pending:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"hit {hit_id} is already {hit.status.value}")
        server_active = entry_still_active(conn, hit)
        detail = {"checklist": {f: getattr(body, f) for f in CHECKLIST},
                  "server_entry_still_active": server_active,
                  "reject_reason": body.reject_reason, "note": body.note}
        refused = body.decision == "accept" and not server_active
        if refused:  # commit only the audit record of the refusal
            audit.record(conn, user=user, action="alpr.hit.disposition", target=target,
                         reason_code=body.reason.value, case_number=body.case,
                         outcome="refused", detail=detail)
        else:
            disposition = HitDisposition(
                decision=body.decision, plate_matches_image=body.plate_matches_image,
                state_matches=body.state_matches, entry_still_active=body.entry_still_active,
                reject_reason=body.reject_reason, note=body.note,
                reason_code=body.reason.value, case_number=body.case, by=user.username,
                at=db.utcnow())
            new_status = HitStatus.accepted if body.decision == "accept" else HitStatus.rejected
            done = conn.execute(update(alpr_hits).where(
                alpr_hits.c.id == hit_id, alpr_hits.c.status == HitStatus.pending.value)
                .values(status=new_status.value,
                        disposition=disposition.model_dump(mode="json"))).rowcount
            if not done:  # another console won the race
                raise HTTPException(status.HTTP_409_CONFLICT, f"hit {hit_id} was just disposed")
            audit.record(conn, user=user, action="alpr.hit.disposition", target=target,
                         reason_code=body.reason.value, case_number=body.case,
                         outcome=body.decision, detail=detail)
            hit = fetch_hit(conn, hit_id, user)
            request.app.state.events.publish("alpr.hit.updated", hit_event(hit), conn=conn)
    if refused:
        raise field_error(("body", "entry_still_active"),
                          f"server re-check: plate {hit.plate} is no longer an active entry of "
                          f"hotlist {hit.hotlist_id} (removed, expired or list inactive)")
    log.info("hit %d %sed by %s (case %s)", hit_id, body.decision, user.username, body.case)
    return hit
