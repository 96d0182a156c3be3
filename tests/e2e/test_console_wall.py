"""The console against the real backend: what an operator sees on the wall."""
from __future__ import annotations

import logging
import time

import pytest
import requests

from console.server import demo_world
from console.server.app import create_app
from console.server.runner import ServerHandle
from console.server.settings import ServerSettings
from tests.e2e.conftest import PASSWORD, make_session, tile_colour_matches
from tests.ui.wall_helpers import grab

pytestmark = pytest.mark.video
log = logging.getLogger("rtcc.test")


def _playing(app) -> list:
    return [t for t in app.tiles() if t.camera is not None and t.state.value == "playing"]


def _admin(world) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{world.server_url}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    r.raise_for_status()
    s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return s


def _new_station(world, station_id: str) -> None:
    r = _admin(world).post(f"{world.server_url}/api/v1/stations",
                           json={"id": station_id, "name": station_id, "screens": 1})
    assert r.status_code in (200, 201), r.text


def test_every_tile_shows_its_own_camera_live(open_console, qtbot, colours):
    app = open_console()
    tiles = [t for t in app.tiles() if t.camera is not None]
    assert {t.camera.id for t in tiles} == set(colours), "the seeded layout holds every camera"
    qtbot.waitUntil(lambda: len(_playing(app)) == len(tiles), timeout=25_000)
    for tile in tiles:
        # pixels read back from the X server: the camera's own colour, and moving
        qtbot.waitUntil(lambda t=tile: tile_colour_matches(t, colours[t.camera.id]), timeout=10_000)
        first = grab(tile.surface)
        qtbot.waitUntil(lambda t=tile, f=first: grab(t.surface) != f, timeout=5_000)
    assert all(t.profile == "sub" for t in tiles), "a 2x2 tile on this screen is below the main threshold"


def test_stall_is_noticed_and_the_tile_recovers_by_itself(open_console, qtbot, world, colours):
    app = open_console()
    qtbot.waitUntil(lambda: len(_playing(app)) == len(colours), timeout=25_000)
    victim, *others = [t for t in app.tiles() if t.camera is not None]
    cam = victim.camera.id
    qtbot.waitUntil(lambda: tile_colour_matches(victim, colours[cam]), timeout=10_000)

    world.sim.stop_camera(cam)
    t0 = time.monotonic()
    try:
        qtbot.waitUntil(lambda: victim.state.value in ("stalled", "reconnecting"), timeout=8_000)
        noticed = time.monotonic() - t0
        assert "STALE" in victim.badge_text or victim.state.value == "reconnecting"
        # the last picture stays on screen while the stream is away
        assert tile_colour_matches(victim, colours[cam])
        assert all(t.state.value == "playing" for t in others), "the rest of the wall is unaffected"
    finally:
        world.sim.start_camera(cam)
    t1 = time.monotonic()
    qtbot.waitUntil(lambda: victim.state.value == "playing", timeout=20_000)
    back = time.monotonic() - t1
    first = grab(victim.surface)
    qtbot.waitUntil(lambda: grab(victim.surface) != first, timeout=5_000)
    assert tile_colour_matches(victim, colours[cam])
    log.info("stall noticed after %.2f s; live again %.2f s after the camera returned", noticed, back)


def test_maximize_plays_the_main_stream_and_restore_returns_to_sub(open_console, qtbot, world, colours):
    app = open_console()
    model, tile = app.walls[0], app.tiles()[0]
    cam = tile.camera.id
    qtbot.waitUntil(lambda: tile.state.value == "playing", timeout=25_000)
    assert tile.profile == "sub"
    model.maximize(0)
    # playing the main stream's URL (not the sub stream still playing before the reopen)
    qtbot.waitUntil(lambda: tile.player.url.split("?")[0].endswith("/main.ts")
                    and tile.state.value == "playing", timeout=25_000)
    assert all(not t.isVisible() for t in app.tiles()[1:]), "other tiles are hidden"
    assert all(t.state.value in ("idle", "stopped") for t in app.tiles()[1:]), "hidden tiles are stopped"
    # the gateway really pulls the camera's main stream now (one RTSP session on the simulator)
    qtbot.waitUntil(lambda: world.sim.sessions(cam, "main") == 1, timeout=5_000)
    qtbot.waitUntil(lambda: tile_colour_matches(tile, colours[cam]), timeout=25_000)
    model.restore()
    qtbot.waitUntil(lambda: tile.player.url.split("?")[0].endswith("/sub.ts")
                    and tile.state.value == "playing", timeout=25_000)
    qtbot.waitUntil(lambda: len(_playing(app)) == len(colours), timeout=25_000)


def test_layout_is_saved_on_the_server_and_restored_at_start(open_console, qtbot, world):
    _new_station(world, "e2e-layouts")
    app = open_console(station="e2e-layouts")
    model = app.walls[0]
    cams = [c["id"] for c in world.cameras]
    assert model.kind == "2x2", "a station without layouts starts with its catalog"
    model.set_kind("3x3")
    model.assign(8, cams[0])
    client = make_session(world.server_url, app.session.store).client
    client.login("operator", PASSWORD)

    def saved():
        lays = client.layouts("e2e-layouts", screen=0)
        return bool(lays) and lays[0].kind == "3x3" and lays[0].cells[8].camera_id == cams[0]
    qtbot.waitUntil(saved, timeout=10_000)
    app.close()

    again = open_console(station="e2e-layouts")
    assert again.walls[0].kind == "3x3"
    assert again.walls[0].cameras[8] == cams[0]


def test_unknown_camera_errors_its_tile_only(open_console, qtbot, world):
    _new_station(world, "e2e-errors")
    app = open_console(station="e2e-errors")
    qtbot.waitUntil(lambda: len(_playing(app)) == 4, timeout=25_000)
    app.walls[0].assign(3, "no-such-camera")
    bad = app.tiles()[3]
    qtbot.waitUntil(lambda: bad.state.value == "error", timeout=10_000)
    assert "404" in bad.status.reason or "not found" in bad.status.reason.lower()
    assert len(_playing(app)) == 3


def test_offline_start_shows_the_cached_catalog_and_layouts(open_console, qtbot, world, tmp_path, store):
    db = f"sqlite:///{tmp_path / 'server.sqlite'}"
    sources = {c["id"]: {p: world.sim.url(c["id"], p) for p in ("main", "sub")} for c in world.cameras}
    demo_world.seed(db, world.cameras, sources, {u: PASSWORD for u in world.passwords})
    handle = ServerHandle(create_app(ServerSettings(db_url=db)))
    handle.start()
    url = handle.url
    try:
        online = open_console(url)
        online.walls[0].set_kind("1+5")
        qtbot.waitUntil(lambda: not online._save_timers[0].isActive(), timeout=5_000)
        qtbot.waitUntil(lambda: any(lay.kind == "1+5" for lay in store.load_layouts(url, "demo-1")),
                        timeout=10_000)
        online.close()
    finally:
        handle.stop()

    offline = open_console(url, wait_online=False)
    qtbot.waitUntil(lambda: offline.online is False, timeout=25_000)
    assert "Offline" in offline.window.status_text()
    assert len(offline.catalog) == len(world.cameras)
    assert offline.walls[0].kind == "1+5"
