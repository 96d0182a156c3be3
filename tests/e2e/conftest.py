"""End to end: simulated RTSP cameras → the reference server's media gateway → the console
(real libVLC under Xvfb), all on 127.0.0.1."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.api.client import BackendClient
from console.session import ConsoleSession
from console.store import LocalStore

PASSWORD = "e2e-demo-password"
CAMERAS = 4


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Iterator[object]:
    from console.server.demo_world import DemoWorld
    w = DemoWorld(live=False)
    db = tmp_path_factory.mktemp("world") / "server.sqlite"
    w.start(cache_dir=Path(os.environ["RTCC_CACHE_DIR"]), password=PASSWORD,
            db_url=f"sqlite:///{db}", camera_count=CAMERAS)
    yield w
    w.stop()


@pytest.fixture(scope="session")
def colours(world) -> dict[str, tuple[int, int, int]]:
    def rgb(h: str) -> tuple[int, int, int]:
        return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)
    return {c["id"]: rgb(c["color"]) for c in world.cameras}


@pytest.fixture
def store(tmp_path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "console.sqlite")
    yield s
    s.close()


def make_session(url: str, store: LocalStore, user: str = "operator", password: str = PASSWORD,
                 station: str = "demo-1") -> ConsoleSession:
    return ConsoleSession(BackendClient(url, timeout=5), store, station_id=station,
                          username=user, password=password)


@pytest.fixture
def open_console(qtbot, store, world):
    """Factory: a ConsoleApp signed in to the world (or any URL); closed at teardown."""
    from ui import tasks
    from ui.app import ConsoleApp
    apps = []

    def open_(url: str | None = None, *, wait_online: bool = True, **kw) -> ConsoleApp:
        session = make_session(url or world.server_url, kw.pop("store", store), **kw)
        app = ConsoleApp(session, screens=1)
        qtbot.addWidget(app.window)
        apps.append(app)
        app.start()
        if wait_online:
            qtbot.waitUntil(lambda: app.online is True, timeout=15_000)
        return app

    yield open_
    for app in apps:
        app.close()
        app.session.close()
    tasks.shutdown(wait=True)


def tile_colour_matches(tile, colour) -> bool:
    from tests.ui.wall_helpers import close_to, dominant_colour, grab
    return close_to(dominant_colour(grab(tile.surface)), colour)


def demo_camera_ids() -> list[str]:
    data = json.loads((Path(__file__).resolve().parents[2] / "resources/demo/cameras.json").read_text())
    return [c["id"] for c in data["cameras"][:CAMERAS]]
