"""``/api/v1/cameras/{id}/ptz/...``: capabilities, the control lock, moves, presets, home.

Every command needs the caller to hold the camera's lock (``POST .../ptz/lock``) and
renews it; idle locks expire after 30 s. A supervisor takes over an operator's lock only
with ``reason`` + ``case`` (audited). Continuous moves stop by themselves unless repeated
within 1 s (dead-man). Errors: 404 unknown camera, 409 camera without that PTZ function
or lock not taken, 423 locked by someone else (the detail names the holder), 503 no driver
connected. Lock changes are published as ``ptz.lock`` events.
"""
from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from console.model import PtzCapability, PtzLock, PtzMove, PtzPosition, PtzPreset, User
from console.server import audit, db
from console.server.permissions import require, require_dep
from console.server.ptz import (
    LockHeld,
    LockState,
    NoDriver,
    NotHolder,
    PtzService,
    Verdict,
    decide,
    to_wire,
)
from console.server.tables_ptz import ptz_presets

log = logging.getLogger("rtcc.server.ptz")

router = APIRouter(prefix="/api/v1/cameras/{camera_id}/ptz", tags=["ptz"])

Control = Annotated[User, Depends(require("ptz.control"))]
PresetName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^/]+$")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such camera"},
    409: {"description": "no such PTZ function, or the lock is not taken"},
    423: {"description": "locked by someone else (detail names the holder)"},
    503: {"description": "no PTZ driver connected"},
}


def make_service(app: FastAPI) -> PtzService:
    """The app's PtzService; expired locks are announced as ``ptz.lock`` events."""

    def expired(camera_id: str, state: LockState) -> None:
        _publish(app, camera_id, None, "expired", state.holder)

    return PtzService(on_expired=expired)


def _service(request: Request) -> PtzService:
    return request.app.state.ptz


def _publish(app: FastAPI, camera_id: str, state: LockState | None, change: str,
             previous: str | None, conn: Any = None) -> None:
    events = getattr(app.state, "events", None)
    if events is None:
        return
    data = to_wire(camera_id, state).model_dump(mode="json") | {"change": change,
                                                               "previous": previous}
    events.publish("ptz.lock", data, conn=conn)


def _capability(request: Request, camera_id: str) -> PtzCapability:
    with request.app.state.engine.connect() as conn:
        row = conn.execute(select(db.cameras.c.ptz).where(db.cameras.c.id == camera_id)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {camera_id!r}")
    return PtzCapability.model_validate(row.ptz or {})


def _needs(request: Request, camera_id: str, feature: str) -> PtzCapability:
    cap = _capability(request, camera_id)
    if not cap.any:
        raise HTTPException(status.HTTP_409_CONFLICT, f"camera {camera_id!r} has no PTZ")
    if feature and not getattr(cap, feature):
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"camera {camera_id!r} has no PTZ {feature.replace('_', '/')}")
    return cap


def _run(fn: Any, *args: Any) -> Any:
    """Map service errors to HTTP errors."""
    try:
        return fn(*args)
    except LockHeld as exc:
        raise HTTPException(status.HTTP_423_LOCKED, str(exc)) from None
    except NotHolder as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except NoDriver as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


@router.get("/capabilities", response_model=PtzCapability,
            dependencies=[require_dep("ptz.read")], responses={404: _ERRORS[404]})
def capabilities(camera_id: str, request: Request) -> PtzCapability:
    return _capability(request, camera_id)


@router.get("/lock", response_model=PtzLock, dependencies=[require_dep("ptz.read")],
            responses={404: _ERRORS[404]})
def get_lock(camera_id: str, request: Request) -> PtzLock:
    _capability(request, camera_id)
    return to_wire(camera_id, _service(request).lock(camera_id))


@router.post("/lock", response_model=PtzLock, responses=_ERRORS)
def take_lock(camera_id: str, request: Request, user: Control,
              reason: Annotated[str | None, Query(description="reason code (takeover only)")]
              = None,
              case: Annotated[str | None, Query(description="case number (takeover only)")]
              = None) -> PtzLock:
    """Take (or renew) the lock. Taking over a lower-priority holder's lock needs
    ``reason`` and ``case``; without them the answer is 422 naming the missing field."""
    _needs(request, camera_id, "")
    service = _service(request)
    # take() decides again under its lock; a takeover that appears in between is refused.
    just = None
    if decide(service.lock(camera_id), user, service.clock()) is Verdict.takeover:
        just = audit.justification(reason, case)
    result = _run(lambda: service.take(camera_id, user, justified=just is not None))
    takeover = result.verdict is Verdict.takeover
    change = "takeover" if takeover else "taken"
    try:
        with request.app.state.engine.begin() as conn:
            audit.record(conn, user=user, action=f"ptz.lock.{change}", target=f"camera:{camera_id}",
                         reason_code=just.reason.value if just else None,
                         case_number=just.case if just else None,
                         detail={"previous": result.previous.holder} if result.previous else None)
            _publish(request.app, camera_id, result.lock, change,
                     result.previous.holder if result.previous else None, conn)
    except BaseException:
        service.restore(camera_id, result.previous)
        raise
    if takeover:
        log.info("PTZ %s: %s took over from %s", camera_id, user.username,
                 result.previous.holder if result.previous else "?")
    return to_wire(camera_id, result.lock)


@router.delete("/lock", response_model=PtzLock, responses=_ERRORS)
def release_lock(camera_id: str, request: Request, user: Control) -> PtzLock:
    _capability(request, camera_id)
    state = _run(_service(request).release, camera_id, user)
    with request.app.state.engine.begin() as conn:
        audit.record(conn, user=user, action="ptz.lock.released", target=f"camera:{camera_id}")
        _publish(request.app, camera_id, None, "released", state.holder, conn)
    return to_wire(camera_id, None)


@router.post("/move", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def move(camera_id: str, body: PtzMove, request: Request, user: Control) -> None:
    """Continuous move; repeat it at least every second or the camera stops by itself."""
    cap = _needs(request, camera_id, "")
    if (body.pan or body.tilt) and not cap.pan_tilt:
        raise HTTPException(status.HTTP_409_CONFLICT, f"camera {camera_id!r} has no PTZ pan/tilt")
    if body.zoom and not cap.zoom:
        raise HTTPException(status.HTTP_409_CONFLICT, f"camera {camera_id!r} has no PTZ zoom")
    _run(_service(request).move, camera_id, user, body.pan, body.tilt, body.zoom)


@router.post("/stop", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def stop(camera_id: str, request: Request, user: Control) -> None:
    _needs(request, camera_id, "")
    _run(_service(request).stop, camera_id, user)


@router.post("/home", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def home(camera_id: str, request: Request, user: Control) -> None:
    _needs(request, camera_id, "home")
    _run(_service(request).home, camera_id, user)


@router.get("/position", response_model=PtzPosition, dependencies=[require_dep("ptz.read")],
            responses={k: _ERRORS[k] for k in (404, 409, 503)})
def position(camera_id: str, request: Request) -> PtzPosition:
    _needs(request, camera_id, "")
    return _run(_service(request).position, camera_id)


def _preset(row: Any) -> PtzPreset:
    return PtzPreset(id=row.id, camera_id=row.camera_id, name=row.name,
                     position=PtzPosition(pan=row.pan, tilt=row.tilt, zoom=row.zoom))


def _find_preset(request: Request, camera_id: str, name: str) -> PtzPreset:
    with request.app.state.engine.connect() as conn:
        row = conn.execute(select(ptz_presets).where(ptz_presets.c.camera_id == camera_id,
                                                     ptz_presets.c.name == name)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"camera {camera_id!r} has no preset named {name!r}")
    return _preset(row)


@router.get("/presets", response_model=list[PtzPreset], dependencies=[require_dep("ptz.read")],
            responses={404: _ERRORS[404]})
def list_presets(camera_id: str, request: Request) -> list[PtzPreset]:
    _capability(request, camera_id)
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(ptz_presets).where(ptz_presets.c.camera_id == camera_id)
                            .order_by(ptz_presets.c.name)).all()
    return [_preset(r) for r in rows]


@router.post("/presets/{name}/go", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def go_preset(camera_id: str, name: PresetName, request: Request, user: Control) -> None:
    _needs(request, camera_id, "presets")
    preset = _find_preset(request, camera_id, name)
    _run(_service(request).goto, camera_id, user, preset.position)


@router.put("/presets/{name}", response_model=PtzPreset, responses=_ERRORS)
def save_preset(camera_id: str, name: PresetName, request: Request,
                user: Annotated[User, Depends(require("ptz.presets"))]) -> PtzPreset:
    """Store the camera's current position under ``name`` (replacing a preset of that name)."""
    _needs(request, camera_id, "presets")
    pos: PtzPosition = _run(_service(request).position, camera_id)
    values = {"pan": pos.pan, "tilt": pos.tilt, "zoom": pos.zoom, "saved_by": user.username,
              "saved_at": db.utcnow()}
    where = (ptz_presets.c.camera_id == camera_id) & (ptz_presets.c.name == name)
    try:
        with request.app.state.engine.begin() as conn:
            if not conn.execute(update(ptz_presets).where(where).values(**values)).rowcount:
                conn.execute(insert(ptz_presets).values(camera_id=camera_id, name=name, **values))
            row = conn.execute(select(ptz_presets).where(where)).one()
            audit.record(conn, user=user, action="ptz.preset.save", target=f"camera:{camera_id}",
                         detail={"preset": name, **pos.model_dump()})
    except IntegrityError:  # a concurrent save of the same new name
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"preset {name!r} of camera {camera_id!r} was saved concurrently; "
                            "retry") from None
    return _preset(row)


@router.delete("/presets/{name}", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: _ERRORS[404]})
def delete_preset(camera_id: str, name: PresetName, request: Request,
                  user: Annotated[User, Depends(require("ptz.presets"))]) -> Response:
    with request.app.state.engine.begin() as conn:
        gone = conn.execute(delete(ptz_presets).where(ptz_presets.c.camera_id == camera_id,
                                                      ptz_presets.c.name == name)).rowcount
        if not gone:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"camera {camera_id!r} has no preset named {name!r}")
        audit.record(conn, user=user, action="ptz.preset.delete", target=f"camera:{camera_id}",
                     detail={"preset": name})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
