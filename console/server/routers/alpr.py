"""Helpers shared by the ALPR routers (``alpr_hotlists``, ``alpr_reads``, ``alpr_hits``).

Covert hotlists and their hits exist only for roles with ``alpr.covert``: for everyone
else they are left out of lists and a direct request gets 404 (not 403, which would
confirm they exist). Their live ``alpr.hit`` events carry only the hit id (see
``hit_event``).
"""
from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request, status
from sqlalchemy import Connection, Select, func, select

from console.model import AlprHit, HitDisposition, Hotlist, HotlistEntry, User
from console.server import db
from console.server.alpr_match import HotlistIndex
from console.server.permissions import PERMISSIONS, allowed
from console.server.tables_alpr import alpr_hits, alpr_hotlist_entries, alpr_hotlists

# the roles that may see covert lists and hits, named in a covert hit's event
COVERT_AUDIENCE = tuple(sorted(r.value for r in PERMISSIONS["alpr.covert"]))


def sees_covert(user: User) -> bool:
    return allowed(user.role, "alpr.covert")


def hotlist_index(request: Request) -> HotlistIndex:
    """The app's match index (one per app, created on first use)."""
    state = request.app.state
    index = getattr(state, "alpr_index", None)
    if index is None:
        index = state.alpr_index = HotlistIndex()
    return index


def visible_hotlists(query: Select, user: User) -> Select:
    return query if sees_covert(user) else query.where(alpr_hotlists.c.covert.is_(False))


def visible_hits(query: Select, user: User) -> Select:
    return query if sees_covert(user) else query.where(alpr_hits.c.covert.is_(False))


def to_hotlist(row: Any, entry_count: int) -> Hotlist:
    return Hotlist(id=row.id, name=row.name, source_format=row.source_format,
                   priority=row.priority, covert=row.covert, active=row.active,
                   description=row.description, version=row.version, entry_count=entry_count,
                   created_at=db.as_utc(row.created_at), updated_at=db.as_utc(row.updated_at),
                   updated_by=row.updated_by)


def fetch_hotlist(conn: Connection, hotlist_id: int, user: User) -> Hotlist:
    """The hotlist, or 404 if it does not exist or is covert and the user may not see it."""
    row = conn.execute(visible_hotlists(select(alpr_hotlists), user)
                       .where(alpr_hotlists.c.id == hotlist_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no hotlist {hotlist_id}")
    count = conn.execute(select(func.count()).select_from(alpr_hotlist_entries)
                         .where(alpr_hotlist_entries.c.hotlist_id == hotlist_id)).scalar_one()
    return to_hotlist(row, count)


def to_entry(row: Any, hotlist_active: bool) -> HotlistEntry:
    expires = db.as_utc(row.expires) if row.expires is not None else None
    return HotlistEntry(
        id=row.id, hotlist_id=row.hotlist_id, plate=row.plate, state=row.state,
        list_type=row.list_type, category=row.category, reason=row.reason, nic=row.nic,
        ori=row.ori, entered_date=row.entered_date, expires=expires,
        vehicle_year=row.vehicle_year, make=row.make, model=row.model, color=row.color,
        extra=row.extra or {},
        active=hotlist_active and (expires is None or expires > db.utcnow()))


def live_entries(conn: Connection, hotlist: Hotlist, plate: str) -> list[HotlistEntry]:
    """The list's current entries for ``plate`` (the disposition re-check and the
    console's look-up use the same rule)."""
    rows = conn.execute(select(alpr_hotlist_entries)
                        .where(alpr_hotlist_entries.c.hotlist_id == hotlist.id,
                               alpr_hotlist_entries.c.plate == plate)
                        .order_by(alpr_hotlist_entries.c.id)).all()
    return [to_entry(r, hotlist.active) for r in rows]


def to_hit(row: Any) -> AlprHit:
    return AlprHit(
        id=row.id, read_id=row.read_id, status=row.status, created_at=db.as_utc(row.created_at),
        device_id=row.device_id, plate=row.plate, read_state=row.read_state,
        confidence=row.confidence, read_at=db.as_utc(row.read_at), lat=row.lat, lon=row.lon,
        snapshot_url=row.snapshot_url, hotlist_id=row.hotlist_id, hotlist_name=row.hotlist_name,
        priority=row.priority, covert=row.covert, entry_id=row.entry_id,
        entry_state=row.entry_state, list_type=row.list_type, category=row.category,
        reason=row.reason, nic=row.nic,
        disposition=HitDisposition.model_validate(row.disposition) if row.disposition else None)


def fetch_hit(conn: Connection, hit_id: int, user: User) -> AlprHit:
    row = conn.execute(visible_hits(select(alpr_hits), user)
                       .where(alpr_hits.c.id == hit_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no hit {hit_id}")
    return to_hit(row)


def hit_event(hit: AlprHit) -> dict[str, Any]:
    """The event payload: the whole hit, or for a covert one only its id and the roles
    that may fetch it (the SSE stream goes to every console)."""
    if hit.covert:
        return {"id": hit.id, "covert": True, "audience": list(COVERT_AUDIENCE)}
    return hit.model_dump(mode="json")
