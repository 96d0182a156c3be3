"""``/api/v1/stations``: console stations (a desk with one or more screens)."""
from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import delete, insert, select, update

from console.model import Station
from console.server import db
from console.server.permissions import require_dep
from console.server.routers import field_error

log = logging.getLogger("rtcc.server.stations")

router = APIRouter(prefix="/api/v1/stations", tags=["stations"])


def _station(row) -> Station:  # noqa: ANN001 - sqlalchemy Row
    return Station(id=row.id, name=row.name, screens=row.screens)


@router.get("", response_model=list[Station], dependencies=[require_dep("stations.read")])
def list_stations(request: Request) -> list[Station]:
    with request.app.state.engine.connect() as conn:
        return [_station(r) for r in conn.execute(select(db.stations).order_by(db.stations.c.id))]


@router.get("/{station_id}", response_model=Station,
            dependencies=[require_dep("stations.read")])
def get_station(station_id: str, request: Request) -> Station:
    with request.app.state.engine.connect() as conn:
        row = conn.execute(select(db.stations).where(db.stations.c.id == station_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no station {station_id!r}")
    return _station(row)


@router.post("", response_model=Station, status_code=status.HTTP_201_CREATED,
             dependencies=[require_dep("stations.write")])
def create_station(body: Station, request: Request) -> Station:
    with request.app.state.engine.begin() as conn:
        if conn.execute(select(db.stations.c.id).where(db.stations.c.id == body.id)).first():
            raise HTTPException(status.HTTP_409_CONFLICT, f"station {body.id!r} exists")
        conn.execute(insert(db.stations).values(**body.model_dump()))
    log.info("station %s created", body.id)
    return body


@router.put("/{station_id}", response_model=Station,
            dependencies=[require_dep("stations.write")])
def replace_station(station_id: str, body: Station, request: Request) -> Station:
    if body.id != station_id:
        raise field_error(("body", "id"), f"body id {body.id!r} differs from path {station_id!r}")
    with request.app.state.engine.begin() as conn:
        done = conn.execute(update(db.stations).where(db.stations.c.id == station_id)
                            .values(name=body.name, screens=body.screens)).rowcount
    if not done:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no station {station_id!r}")
    return body


@router.delete("/{station_id}", status_code=status.HTTP_204_NO_CONTENT,
               dependencies=[require_dep("stations.write")])
def delete_station(station_id: str, request: Request) -> None:
    with request.app.state.engine.begin() as conn:
        conn.execute(delete(db.layouts).where(db.layouts.c.station_id == station_id))
        gone = conn.execute(delete(db.stations).where(db.stations.c.id == station_id)).rowcount
    if not gone:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no station {station_id!r}")
    log.info("station %s deleted", station_id)
