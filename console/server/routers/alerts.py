"""``/api/v1/alerts``: create (simulator, integrations), list/filter, and the transitions
acknowledge, assign, escalate, close (state machine in ``console.model.alerts``).

Every change commits together with its audit record and its event (``alert.created`` /
``alert.updated``, data = the whole Alert), so every console sees who holds an alert.
A transition from the wrong state is 409 naming both states; a concurrent change of the
same alert loses cleanly (the update is conditional on the state it read).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from sqlalchemy import Connection, insert, select, update

from console.model import (
    ALERT_TRANSITIONS,
    Alert,
    AlertAction,
    AlertHistoryEntry,
    AlertIn,
    AlertState,
    AlertTransition,
    Role,
    User,
)
from console.server import audit, db
from console.server.db_errors import INT32_MAX
from console.server.permissions import PERMISSIONS, require, require_dep
from console.server.routers import field_error
from console.server.tables_events import alerts as alerts_table

log = logging.getLogger("rtcc.server.alerts")

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
AlertId = Annotated[int, Path(ge=1, le=INT32_MAX)]


def _alert(row: Any) -> Alert:
    return Alert(id=row.id, type=row.type, priority=row.priority, title=row.title,
                 text=row.text, division=row.division, lat=row.lat, lon=row.lon,
                 camera_ids=list(row.camera_ids), state=AlertState(row.state),
                 holder=row.holder, created_by=row.created_by,
                 created_at=db.as_utc(row.created_at), updated_at=db.as_utc(row.updated_at),
                 history=[AlertHistoryEntry.model_validate(h) for h in row.history])


def _fetch(conn: Connection, alert_id: int) -> Alert:
    row = conn.execute(select(alerts_table).where(alerts_table.c.id == alert_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    return _alert(row)


def _entry(**kw: Any) -> dict[str, Any]:
    return AlertHistoryEntry(at=db.utcnow(), **kw).model_dump(mode="json")


@router.post("", response_model=Alert, status_code=status.HTTP_201_CREATED)
def create_alert(body: AlertIn, request: Request,
                 user: Annotated[User, Depends(require("alerts.create"))]) -> Alert:
    now = db.utcnow()
    history = [_entry(by=user.username, action="create", to_state=AlertState.new)]
    with request.app.state.engine.begin() as conn:
        new_id = conn.execute(insert(alerts_table).values(
            **body.model_dump(), state=AlertState.new.value, holder=None,
            created_by=user.username, created_at=now, updated_at=now, history=history, version=1,
        ).returning(alerts_table.c.id)).scalar_one()
        alert = _fetch(conn, new_id)
        audit.record(conn, user=user, action="alert.create", target=f"alert/{new_id}",
                     detail={"type": alert.type, "priority": alert.priority})
        request.app.state.events.publish("alert.created", alert.model_dump(mode="json"), conn)
    log.info("alert %d (%s, P%d) created by %s", new_id, alert.type, alert.priority,
             user.username)
    return alert


@router.get("", response_model=list[Alert], dependencies=[require_dep("alerts.read")])
def list_alerts(
    request: Request,
    state: Annotated[list[AlertState] | None, Query(description="any of these states")] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    division: Annotated[int | None, Query(ge=1, le=21)] = None,
    priority: Annotated[int | None, Query(ge=1, le=5,
                                         description="this priority or more urgent")] = None,
    since: Annotated[datetime | None, Query(description="created at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Alert]:
    """Newest first."""
    q = select(alerts_table)
    if state:
        q = q.where(alerts_table.c.state.in_([s.value for s in state]))
    if type is not None:
        q = q.where(alerts_table.c.type == type)
    if division is not None:
        q = q.where(alerts_table.c.division == division)
    if priority is not None:
        q = q.where(alerts_table.c.priority <= priority)
    if since is not None:
        q = q.where(alerts_table.c.created_at >= db.as_utc(since))
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(q.order_by(alerts_table.c.id.desc()).limit(limit)).all()
    return [_alert(r) for r in rows]


@router.get("/{alert_id}", response_model=Alert, dependencies=[require_dep("alerts.read")])
def get_alert(alert_id: AlertId, request: Request) -> Alert:
    with request.app.state.engine.connect() as conn:
        return _fetch(conn, alert_id)


def _assignee(conn: Connection, body: AlertTransition, action: AlertAction) -> str | None:
    if action is not AlertAction.assign:
        if body.assignee is not None:
            raise field_error(("body", "assignee"), f"assignee is only for assign, not {action}")
        return None
    if body.assignee is None:
        raise field_error(("body", "assignee"), "assign needs an assignee")
    role = conn.execute(select(db.users.c.role)
                        .where(db.users.c.username == body.assignee)).scalar()
    if role is None:
        raise field_error(("body", "assignee"), f"no user {body.assignee!r}")
    if Role(role) not in PERMISSIONS["alerts.handle"]:
        raise field_error(("body", "assignee"), f"user {body.assignee!r} ({role}) cannot "
                                                "work alerts")
    return body.assignee


def _transition(request: Request, alert_id: int, action: AlertAction, body: AlertTransition,
                user: User) -> Alert:
    sources, target = ALERT_TRANSITIONS[action]
    with request.app.state.engine.begin() as conn:
        version = conn.execute(select(alerts_table.c.version)
                               .where(alerts_table.c.id == alert_id)).scalar()
        current = _fetch(conn, alert_id)
        if current.state not in sources:
            allowed = ", ".join(sorted(s.value for s in sources))
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"alert {alert_id} is {current.state.value}: {action.value} "
                                f"needs state {allowed}")
        assignee = _assignee(conn, body, action)
        holder = {AlertAction.acknowledge: user.username,
                  AlertAction.assign: assignee}.get(action, current.holder)
        history = [h.model_dump(mode="json") for h in current.history] + [_entry(
            by=user.username, action=action.value, from_state=current.state, to_state=target,
            reason=body.reason.value, note=body.note, holder=holder)]
        done = conn.execute(
            update(alerts_table)
            .where(alerts_table.c.id == alert_id, alerts_table.c.version == version)
            .values(state=target.value, holder=holder, updated_at=db.utcnow(), history=history,
                    version=alerts_table.c.version + 1)).rowcount
        if not done:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"alert {alert_id} changed meanwhile; read it again")
        alert = _fetch(conn, alert_id)
        audit.record(conn, user=user, action=f"alert.{action.value}", target=f"alert/{alert_id}",
                     detail={"from": current.state.value, "to": target.value,
                             "reason": body.reason.value, "holder": holder})
        request.app.state.events.publish("alert.updated", alert.model_dump(mode="json"), conn)
    log.info("alert %d %s -> %s by %s (%s)", alert_id, current.state.value, target.value,
             user.username, body.reason.value)
    return alert


def _route(action: AlertAction) -> None:
    sources, target = ALERT_TRANSITIONS[action]

    def handler(alert_id: AlertId, body: AlertTransition, request: Request,
                user: Annotated[User, Depends(require("alerts.handle"))]) -> Alert:
        return _transition(request, alert_id, action, body, user)

    handler.__name__ = f"{action.value}_alert"
    router.add_api_route(
        f"/{{alert_id}}/{action.value}", handler, methods=["POST"], response_model=Alert,
        name=f"{action.value}_alert",
        summary=f"{action.value.capitalize()} an alert "
                f"({', '.join(sorted(s.value for s in sources))} -> {target.value})",
        responses={409: {"description": "the alert is not in a state this action starts from"}})


for _action in AlertAction:
    _route(_action)
