"""``/api/v1/layouts`` and ``/api/v1/stations/{id}/layouts``: shared wall layouts.

Every replace bumps ``version``; a client that sends ``If-Match: <version>`` gets 409
if someone else changed the layout since it read it (optimistic concurrency).
"""
from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from console.model import Cell, Layout, LayoutIn, User
from console.server import db
from console.server.permissions import require, require_dep
from console.server.routers import field_error

log = logging.getLogger("rtcc.server.layouts")

router = APIRouter(prefix="/api/v1", tags=["layouts"])


def _layout(row) -> Layout:  # noqa: ANN001 - sqlalchemy Row
    return Layout(id=row.id, station_id=row.station_id, screen=row.screen, name=row.name,
                  kind=row.kind, rows=row.rows, cols=row.cols,
                  cells=[Cell.model_validate(c) for c in row.cells], active=row.active,
                  version=row.version,
                  updated_at=db.as_utc(row.updated_at) if row.updated_at else None,
                  updated_by=row.updated_by)


def _check(conn: Connection, body: LayoutIn) -> None:
    """Cells must lie inside the grid and not overlap; the station must exist."""
    if conn.execute(select(db.stations.c.id)
                    .where(db.stations.c.id == body.station_id)).first() is None:
        raise field_error(("body", "station_id"), f"no station {body.station_id!r}")
    taken: dict[tuple[int, int], int] = {}
    for i, c in enumerate(body.cells):
        if c.row + c.row_span > body.rows or c.col + c.col_span > body.cols:
            raise field_error(("body", "cells", i),
                              f"cell at row {c.row} col {c.col} (span {c.row_span}x"
                              f"{c.col_span}) lies outside the {body.rows}x{body.cols} grid")
        for r in range(c.row, c.row + c.row_span):
            for k in range(c.col, c.col + c.col_span):
                if (r, k) in taken:
                    raise field_error(("body", "cells", i),
                                      f"cell overlaps cells[{taken[(r, k)]}] at row {r} col {k}")
                taken[(r, k)] = i


def _values(body: LayoutIn, user: User) -> dict:
    return {**body.model_dump(exclude={"cells"}),
            "cells": [c.model_dump() for c in body.cells],
            "updated_at": db.utcnow(), "updated_by": user.username}


def _fetch(conn: Connection, layout_id: int) -> Layout:
    row = conn.execute(select(db.layouts).where(db.layouts.c.id == layout_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no layout {layout_id}")
    return _layout(row)


def _duplicate(body: LayoutIn) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT,
                         f"station {body.station_id!r} screen {body.screen} already has a "
                         f"layout named {body.name!r}")


def _etag(response: Response, layout: Layout) -> Layout:
    response.headers["ETag"] = f'"{layout.version}"'
    return layout


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    try:
        return int(text)
    except ValueError:
        raise field_error(("header", "If-Match"), f"expected a layout version, got {value!r}",
                          status.HTTP_400_BAD_REQUEST) from None


@router.get("/stations/{station_id}/layouts", response_model=list[Layout],
            dependencies=[require_dep("layouts.read")])
def station_layouts(station_id: str, request: Request,
                    screen: Annotated[int | None, Query(ge=0, le=15)] = None) -> list[Layout]:
    with request.app.state.engine.connect() as conn:
        if conn.execute(select(db.stations.c.id)
                        .where(db.stations.c.id == station_id)).first() is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no station {station_id!r}")
        q = select(db.layouts).where(db.layouts.c.station_id == station_id)
        if screen is not None:
            q = q.where(db.layouts.c.screen == screen)
        rows = conn.execute(q.order_by(db.layouts.c.screen, db.layouts.c.id)).all()
    return [_layout(r) for r in rows]


@router.post("/layouts", response_model=Layout, status_code=status.HTTP_201_CREATED)
def create_layout(body: LayoutIn, request: Request, response: Response,
                  user: Annotated[User, Depends(require("layouts.write"))]) -> Layout:
    try:
        with request.app.state.engine.begin() as conn:
            _check(conn, body)
            new_id = conn.execute(insert(db.layouts).values(**_values(body, user), version=1)
                                  .returning(db.layouts.c.id)).scalar_one()
            layout = _fetch(conn, new_id)
    except IntegrityError:
        raise _duplicate(body) from None
    log.info("layout %d (%s/%d %r) created by %s", layout.id, layout.station_id,
             layout.screen, layout.name, user.username)
    return _etag(response, layout)


@router.get("/layouts/{layout_id}", response_model=Layout,
            dependencies=[require_dep("layouts.read")])
def get_layout(layout_id: int, request: Request, response: Response) -> Layout:
    with request.app.state.engine.connect() as conn:
        return _etag(response, _fetch(conn, layout_id))


@router.put("/layouts/{layout_id}", response_model=Layout,
            responses={409: {"description": "If-Match version is stale, or name taken"}})
def replace_layout(layout_id: int, body: LayoutIn, request: Request, response: Response,
                   user: Annotated[User, Depends(require("layouts.write"))],
                   if_match: Annotated[str | None, Header()] = None) -> Layout:
    expected = _if_match(if_match)
    try:
        with request.app.state.engine.begin() as conn:
            _check(conn, body)
            q = update(db.layouts).where(db.layouts.c.id == layout_id)
            if expected is not None:
                q = q.where(db.layouts.c.version == expected)
            done = conn.execute(q.values(**_values(body, user),
                                         version=db.layouts.c.version + 1)).rowcount
            if not done:
                current = _fetch(conn, layout_id)  # 404 if it does not exist
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    f"layout {layout_id} is at version {current.version}, "
                                    f"not {expected}")
            layout = _fetch(conn, layout_id)
    except IntegrityError:
        raise _duplicate(body) from None
    log.info("layout %d replaced by %s (version %d)", layout_id, user.username, layout.version)
    return _etag(response, layout)


@router.delete("/layouts/{layout_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_layout(layout_id: int, request: Request,
                  user: Annotated[User, Depends(require("layouts.write"))]) -> None:
    with request.app.state.engine.begin() as conn:
        gone = conn.execute(delete(db.layouts).where(db.layouts.c.id == layout_id)).rowcount
    if not gone:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no layout {layout_id}")
    log.info("layout %d deleted by %s", layout_id, user.username)
