"""The demo world: simulated cameras at real LA sites, behind the real server and gateway.

``DemoWorld().start(cache_dir)`` loads ``resources/demo/cameras.json``, starts one
simulated RTSP camera per entry (its own colour), seeds the database (one user per role,
station "demo-1" with a 4x4 wall of the cameras; idempotent on an existing db: users get
the current passwords, sources get the current simulator URLs) and serves the app with a
media gateway that keeps every sub stream always on (main streams start on demand).
"""
from __future__ import annotations

import json
import logging
import math
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from console.config import data_dir
from console.model import Cell, Role, StreamInfo
from console.server import auth, db
from console.server.app import create_app
from console.server.media.gateway import MediaGateway
from console.server.routers.cameras import CameraIn, put_camera
from console.server.runner import ServerHandle
from console.server.settings import ServerSettings
from console.server.sim.ptz import DEMO_PTZ_ID

log = logging.getLogger("rtcc.server.demo")

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
CAMERAS_JSON = RESOURCES / "demo" / "cameras.json"
PASSWORD_ENV = "RTCC_DEMO_PASSWORD"
STATION_ID = "demo-1"
LAYOUT_NAME = "Demo wall"
MAIN, SUB = (1280, 720, 15), (640, 360, 15)


def load_demo_cameras(camera_count: int = 16, path: Path = CAMERAS_JSON) -> list[dict[str, Any]]:
    cams = json.loads(path.read_text(encoding="utf-8"))["cameras"]
    if not 1 <= camera_count <= len(cams):
        raise ValueError(f"camera_count {camera_count}: {path} has 1..{len(cams)} cameras")
    return cams[:camera_count]


def sim_specs(cams: list[dict[str, Any]]) -> list[Any]:
    from console.server.sim.clips import SimCameraSpec
    return [SimCameraSpec(camera_id=c["id"], label=c["name"][:48], color=c["color"], main=MAIN,
                          sub=SUB) for c in cams]


def prepare_demo_media(cache_dir: Path, camera_count: int = 16) -> None:
    """Encode the demo's simulated clips into cache_dir now (the first demo start is then fast)."""
    from console.server.sim.clips import ensure_clips
    ensure_clips(sim_specs(load_demo_cameras(camera_count)), Path(cache_dir))


def demo_passwords(password: str | None) -> tuple[dict[str, str], bool]:
    """({username: password}, generated?) from the argument, $RTCC_DEMO_PASSWORD, or random."""
    given = password or os.environ.get(PASSWORD_ENV)
    if given:
        return {r.value: given for r in Role}, False
    return {r.value: secrets.token_urlsafe(9) for r in Role}, True


def _camera_in(cam: dict[str, Any], sources: dict[str, str]) -> CameraIn:
    fields = {k: v for k, v in cam.items() if k in CameraIn.model_fields and k != "streams"}
    streams = [StreamInfo(profile="main", width=MAIN[0], height=MAIN[1], fps=MAIN[2]),
               StreamInfo(profile="sub", width=SUB[0], height=SUB[1], fps=SUB[2])]
    return CameraIn(**fields, streams=streams, sources=sources)


def _seed_layout(engine: Engine, camera_ids: list[str]) -> None:
    side = math.ceil(math.sqrt(len(camera_ids)))
    cells = [Cell(row=i // side, col=i % side, camera_id=cid).model_dump()
             for i, cid in enumerate(camera_ids)]
    with engine.begin() as conn:
        if not conn.execute(select(db.stations.c.id)
                            .where(db.stations.c.id == STATION_ID)).first():
            conn.execute(insert(db.stations).values(id=STATION_ID, name="Demo station", screens=1))
        if not conn.execute(select(db.layouts.c.id).where(
                db.layouts.c.station_id == STATION_ID, db.layouts.c.screen == 0,
                db.layouts.c.name == LAYOUT_NAME)).first():
            conn.execute(insert(db.layouts).values(
                station_id=STATION_ID, screen=0, name=LAYOUT_NAME, kind=f"{side}x{side}",
                rows=side, cols=side, cells=cells, active=True, version=1,
                updated_at=db.utcnow(), updated_by="demo"))


def seed(db_url: str, cams: list[dict[str, Any]], sources: dict[str, dict[str, str]],
         passwords: dict[str, str]) -> None:
    """Idempotent: safe to run on every start against the same database."""
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        for role in Role:
            auth.put_user(engine, role.value, role, passwords[role.value],
                          f"Demo {role.value}")
        for cam in cams:
            put_camera(engine, _camera_in(cam, sources[cam["id"]]))
        _seed_layout(engine, [c["id"] for c in cams])
    finally:
        engine.dispose()


def _login(server_url: str, username: str, password: str) -> str:
    import requests
    r = requests.post(f"{server_url}/api/v1/auth/login",
                      json={"username": username, "password": password}, timeout=10)
    r.raise_for_status()
    return r.json()["access_token"]


class DemoWorld:
    """``live``: also the moving parts of a watch floor — a simulated PTZ camera, recording of
    every sub stream, the ALPR read feed with its demo hotlist, and scripted alerts. Tests of
    the wall alone turn it off to keep a 2-core machine quiet."""

    def __init__(self, *, live: bool = True) -> None:
        self.live = live
        self.sim: Any = None  # console.server.sim.cameras.SimCameraServer
        self.ptz_sim: Any = None  # console.server.sim.ptz.SimPtzCamera
        self.feeds: list[Any] = []  # AlprFeed, AlertFeed
        self.handle: ServerHandle | None = None
        self.passwords: dict[str, str] = {}
        self.passwords_generated = False
        self.cameras: list[dict[str, Any]] = []

    @property
    def server_url(self) -> str:
        if self.handle is None:
            raise RuntimeError("DemoWorld not started")
        return self.handle.url

    def start(self, cache_dir: Path, password: str | None = None, db_url: str | None = None,
              camera_count: int = 16, *, host: str = "127.0.0.1", port: int = 0,
              timeout: float = 120.0) -> None:
        from console.server.sim.cameras import SimCameraServer  # needs system GStreamer

        if self.handle is not None:
            raise RuntimeError("DemoWorld already started")
        self.cameras = load_demo_cameras(camera_count)
        self.passwords, self.passwords_generated = demo_passwords(password)
        db_url = db_url or f"sqlite:///{data_dir() / 'demo.db'}"
        try:
            self.sim = SimCameraServer(sim_specs(self.cameras), Path(cache_dir))
            self.sim.start(timeout=timeout)
            sources = {c["id"]: {p: self.sim.url(c["id"], p) for p in ("main", "sub")}
                       for c in self.cameras}
            seed(db_url, self.cameras, sources, self.passwords)
            if self.live:
                self._start_ptz_camera(cache_dir, db_url, timeout)
            settings = ServerSettings(
                host=host, port=port, db_url=db_url, demo=True, always_on_profiles=frozenset({"sub"}),
                record_profiles=frozenset({"sub"}) if self.live else frozenset())
            app = create_app(settings, MediaGateway(linger_s=10.0))
            if self.ptz_sim is not None:
                from console.server.sim.ptz import register_ptz_camera
                register_ptz_camera(app, self.ptz_sim)
            self.handle = ServerHandle(app, host=host, port=port)
            self.handle.start(timeout=timeout)
            if self.live:
                self._start_feeds()
        except BaseException:
            self.stop()
            raise
        log.info("demo world: %d cameras, server %s", len(self.cameras), self.handle.url)

    def _start_ptz_camera(self, cache_dir: Path, db_url: str, timeout: float) -> None:
        from console.server.sim.ptz import SimPtzCamera, demo_ptz_camera_in
        self.ptz_sim = SimPtzCamera(DEMO_PTZ_ID, Path(cache_dir)).start(timeout=timeout)
        engine = db.make_engine(db_url)
        try:
            put_camera(engine, demo_ptz_camera_in(self.ptz_sim))
        finally:
            engine.dispose()

    def _start_feeds(self) -> None:
        """ALPR reads (a hotlist hit about once a minute) and scripted alerts, over HTTP like
        any integration; they sign in as the demo supervisor."""
        from console.server.sim.alerts import AlertFeed
        from console.server.sim.alpr import AlprFeed, install_demo_hotlist
        token = _login(self.server_url, "supervisor", self.passwords["supervisor"])
        install_demo_hotlist(self.server_url, token)
        self.feeds = [AlprFeed().start(self.server_url, token),
                      AlertFeed().start(self.server_url, token)]

    def stop(self) -> None:
        handle, self.handle = self.handle, None
        sim, self.sim = self.sim, None
        ptz, self.ptz_sim = self.ptz_sim, None
        feeds, self.feeds = self.feeds, []
        try:
            for feed in feeds:
                feed.stop()
            if handle is not None:
                handle.stop()
        finally:
            if sim is not None:
                sim.close()
            if ptz is not None:
                ptz.stop()

    def __enter__(self) -> DemoWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
