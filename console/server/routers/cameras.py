"""``/api/v1/cameras``: the camera catalog, stream URLs, and (admin) camera sources.

A camera's source URLs (what the gateway pulls, possibly with RTSP credentials) are
write-only: they come in through ``CameraIn.sources`` and never go out. What clients get
in ``streams[].url`` is a gateway URL with a short-lived stream token, and only for roles
with ``media.view``; others get ``url == ""``.
"""
from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy import Connection, Engine, delete, insert, select, update

from console.model import Camera, PtzCapability, StreamInfo, StreamProfileName, StreamUrl, User
from console.logsafe import mask_url
from console.server import db
from console.server.media.tokens import issue
from console.server.permissions import allowed, require
from console.server.routers import field_error

log = logging.getLogger("rtcc.server.cameras")

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])

SOURCE_SCHEMES = ("rtsp", "rtsps", "http", "https")


class CameraIn(Camera):
    """A camera as an admin creates or replaces it: ``streams`` describe each profile
    (codec, size, fps; ``url`` is ignored) and ``sources`` give the URL the gateway pulls
    for each profile. Every stream needs a source and every source a stream."""

    sources: dict[StreamProfileName, str] = Field(min_length=1)

    @field_validator("streams")
    @classmethod
    def _one_per_profile(cls, streams: list[StreamInfo]) -> list[StreamInfo]:
        profiles = [s.profile for s in streams]
        if len(set(profiles)) != len(profiles):
            raise ValueError(f"duplicate profile in {profiles}")
        return [s.model_copy(update={"url": ""}) for s in streams]

    @field_validator("sources")
    @classmethod
    def _valid_sources(cls, sources: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for profile, url in sources.items():
            # Messages never echo the URL: it may carry a password.
            try:
                parts = urlsplit(url)
            except ValueError:
                raise ValueError(f"{profile}: not a URL") from None
            if parts.scheme not in SOURCE_SCHEMES or not parts.hostname:
                raise ValueError(f"{profile}: need {'/'.join(SOURCE_SCHEMES)}://host/..., "
                                 f"got scheme {parts.scheme!r}")
        streams = info.data.get("streams")
        if streams is not None:
            described = {s.profile for s in streams}
            if described != set(sources):
                raise ValueError(f"profiles {sorted(sources)} do not match streams "
                                 f"{sorted(described)}")
        return sources

    def camera(self) -> Camera:
        return Camera.model_validate(self.model_dump(exclude={"sources"}))


_CAMERA_COLUMNS = [c for c in db.cameras.c]
# Deliberately without camera_sources.url: read paths never load the secret.
_STREAM_COLUMNS = [db.camera_sources.c[n]
                   for n in ("camera_id", "profile", "codec", "width", "height", "fps")]


def _load(conn: Connection, camera_id: str | None = None) -> list[Camera]:
    cq = select(*_CAMERA_COLUMNS).order_by(db.cameras.c.id)
    sq = select(*_STREAM_COLUMNS).order_by(db.camera_sources.c.profile)
    if camera_id is not None:
        cq = cq.where(db.cameras.c.id == camera_id)
        sq = sq.where(db.camera_sources.c.camera_id == camera_id)
    streams: dict[str, list[StreamInfo]] = {}
    for s in conn.execute(sq):
        streams.setdefault(s.camera_id, []).append(
            StreamInfo(profile=s.profile, codec=s.codec, width=s.width, height=s.height,
                       fps=s.fps))
    out = []
    for r in conn.execute(cq):
        fields = {k: getattr(r, k) for k in r._fields if k != "ptz"}
        out.append(Camera(**fields, ptz=PtzCapability.model_validate(r.ptz or {}),
                          streams=streams.get(r.id, [])))
    return out


def _one(engine: Engine, camera_id: str) -> Camera:
    with engine.connect() as conn:
        found = _load(conn, camera_id)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {camera_id!r}")
    return found[0]


def stream_url(request: Request, camera_id: str, profile: str) -> StreamUrl:
    """A gateway URL for one stream with a fresh token (valid ``stream_token_ttl_s``)."""
    settings = request.app.state.settings
    now = time.time()
    token = issue(settings.media_secret, camera_id, profile, ttl_s=settings.stream_token_ttl_s,
                  now=now)
    url = (f"{request.base_url}api/v1/media/{quote(camera_id, safe='')}/{profile}.ts"
           f"?token={quote(token, safe='')}")
    return StreamUrl(camera_id=camera_id, profile=profile, url=url,
                     expires_at=datetime.fromtimestamp(now + settings.stream_token_ttl_s, UTC))


def _with_urls(request: Request, user: User, cam: Camera) -> Camera:
    if not allowed(user.role, "media.view"):
        return cam
    return cam.model_copy(update={"streams": [
        s.model_copy(update={"url": stream_url(request, cam.id, s.profile).url})
        for s in cam.streams]})


def _source_rows(body: CameraIn) -> list[dict]:
    return [{"camera_id": body.id, "profile": s.profile, "url": body.sources[s.profile],
             "codec": s.codec, "width": s.width, "height": s.height, "fps": s.fps}
            for s in body.streams]


def _camera_values(body: CameraIn) -> dict:
    return body.model_dump(exclude={"sources", "streams", "ptz"}) | {"ptz": body.ptz.model_dump()}


def _insert(engine: Engine, body: CameraIn) -> None:
    with engine.begin() as conn:
        if conn.execute(select(db.cameras.c.id).where(db.cameras.c.id == body.id)).first():
            raise HTTPException(status.HTTP_409_CONFLICT, f"camera {body.id!r} exists")
        conn.execute(insert(db.cameras).values(**_camera_values(body)))
        conn.execute(insert(db.camera_sources), _source_rows(body))


def _replace(engine: Engine, body: CameraIn) -> list[str]:
    """Returns the profiles the camera had before."""
    with engine.begin() as conn:
        old = [r.profile for r in conn.execute(select(db.camera_sources.c.profile)
                                               .where(db.camera_sources.c.camera_id == body.id))]
        done = conn.execute(update(db.cameras).where(db.cameras.c.id == body.id)
                            .values(**_camera_values(body))).rowcount
        if not done:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {body.id!r}")
        conn.execute(delete(db.camera_sources).where(db.camera_sources.c.camera_id == body.id))
        conn.execute(insert(db.camera_sources), _source_rows(body))
    return old


def _delete(engine: Engine, camera_id: str) -> list[str]:
    with engine.begin() as conn:
        old = [r.profile for r in conn.execute(select(db.camera_sources.c.profile)
                                               .where(db.camera_sources.c.camera_id == camera_id))]
        conn.execute(delete(db.camera_sources).where(db.camera_sources.c.camera_id == camera_id))
        if not conn.execute(delete(db.cameras).where(db.cameras.c.id == camera_id)).rowcount:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {camera_id!r}")
    return old


def put_camera(engine: Engine, body: CameraIn) -> None:
    """Create or replace a camera and its sources directly in the database (seeding; the
    running app's gateway learns about it at its next start)."""
    with engine.begin() as conn:
        exists = conn.execute(select(db.cameras.c.id).where(db.cameras.c.id == body.id)).first()
    if exists:
        _replace(engine, body)
    else:
        _insert(engine, body)


def load_sources(engine: Engine) -> list[tuple[str, str, str]]:
    """(camera_id, profile, url) of every stored source, for the gateway. SECRET urls."""
    with engine.connect() as conn:
        return [(r.camera_id, r.profile, r.url) for r in conn.execute(
            select(db.camera_sources.c.camera_id, db.camera_sources.c.profile,
                   db.camera_sources.c.url))]


def register_source(app: FastAPI, camera_id: str, profile: str, url: str) -> None:
    """Hand one source to the gateway (on the event loop thread, where the gateway lives)."""
    gateway = app.state.gateway
    if gateway is not None:
        always_on = profile in app.state.settings.always_on_profiles
        gateway.set_source(camera_id, profile, url, always_on=always_on)
    log.info("camera %s/%s source %s", camera_id, profile, mask_url(url))


def _unregister(app: FastAPI, camera_id: str, profiles: list[str]) -> None:
    gateway = app.state.gateway
    for profile in profiles:
        if gateway is not None:
            gateway.remove_source(camera_id, profile)
        log.info("camera %s/%s source removed", camera_id, profile)


ReadUser = Annotated[User, Depends(require("cameras.read"))]
WriteUser = Annotated[User, Depends(require("cameras.write"))]


@router.get("", response_model=list[Camera])
def list_cameras(request: Request, user: ReadUser) -> list[Camera]:
    with request.app.state.engine.connect() as conn:
        cams = _load(conn)
    return [_with_urls(request, user, c) for c in cams]


@router.get("/{camera_id}", response_model=Camera)
def get_camera(camera_id: str, request: Request, user: ReadUser) -> Camera:
    return _with_urls(request, user, _one(request.app.state.engine, camera_id))


@router.get("/{camera_id}/streams/{profile}", response_model=StreamUrl)
def get_stream_url(camera_id: str, profile: StreamProfileName, request: Request,
                   user: Annotated[User, Depends(require("media.view"))]) -> StreamUrl:
    cam = _one(request.app.state.engine, camera_id)
    if cam.stream(profile) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"camera {camera_id!r} has no {profile!r} stream")
    return stream_url(request, camera_id, profile)


@router.post("", response_model=Camera, status_code=status.HTTP_201_CREATED)
async def create_camera(body: CameraIn, request: Request, user: WriteUser) -> Camera:
    await run_in_threadpool(_insert, request.app.state.engine, body)
    for profile, url in body.sources.items():
        register_source(request.app, body.id, profile, url)
    log.info("camera %s created by %s", body.id, user.username)
    return _with_urls(request, user, body.camera())


@router.put("/{camera_id}", response_model=Camera)
async def replace_camera(camera_id: str, body: CameraIn, request: Request,
                         user: WriteUser) -> Camera:
    if body.id != camera_id:
        raise field_error(("body", "id"), f"body id {body.id!r} differs from path {camera_id!r}")
    old = await run_in_threadpool(_replace, request.app.state.engine, body)
    _unregister(request.app, camera_id, [p for p in old if p not in body.sources])
    for profile, url in body.sources.items():
        register_source(request.app, camera_id, profile, url)
    log.info("camera %s replaced by %s", camera_id, user.username)
    return _with_urls(request, user, body.camera())


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_camera(camera_id: str, request: Request, user: WriteUser) -> None:
    old = await run_in_threadpool(_delete, request.app.state.engine, camera_id)
    _unregister(request.app, camera_id, old)
    log.info("camera %s deleted by %s", camera_id, user.username)
