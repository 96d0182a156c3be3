"""WallGrid / WallWindow / camera tree with real libVLC: layouts, drag and drop, maximize."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from wall_helpers import camera, differs, grab, shows
from wall_streams import Resolver

from console.catalog import CameraCatalog
from console.tile_state import TileState
from console.wall import WallModel
from ui.panels.cameras import CameraTreePanel
from ui.wall import video
from ui.wall.tile import CAMERA_MIME
from ui.wall.window import WallWindow

pytestmark = pytest.mark.video

CATALOG = CameraCatalog([camera(i) for i in range(16)])


@pytest.fixture
def make_wall(qtbot, resolver: Resolver):  # type: ignore[no-untyped-def]
    windows: list[WallWindow] = []

    def make(model: WallModel, w: int = 960, h: int = 560) -> WallWindow:
        win = WallWindow(model, resolver, CATALOG.get)
        qtbot.addWidget(win)
        win.setGeometry(0, 0, w, h)
        win.show()
        qtbot.waitExposed(win)
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.close()


def all_playing(win: WallWindow) -> bool:
    return all(t.state == TileState.playing for t in win.grid.tiles if t.camera is not None)


def test_layout_switch_reuses_tiles_and_plays(qtbot, make_wall, resolver: Resolver) -> None:
    model = WallModel("4x4", [f"cam{i:02d}" for i in range(16)])
    win = make_wall(model)
    qtbot.waitUntil(lambda: all_playing(win), timeout=20_000)
    assert video.live_player_count() == 16
    keep = win.grid.tiles[:4]
    players = [t.player for t in keep]
    stopped: list[str] = []
    for t in keep:
        t.state_changed.connect(stopped.append)

    model.set_kind("2x2")
    assert win.grid.tiles == keep  # same tile objects, same players, never stopped
    assert [t.player for t in win.grid.tiles] == players
    qtbot.waitUntil(lambda: video.live_player_count() == 4, timeout=5000)
    qtbot.wait(500)
    assert stopped == [] and all_playing(win)
    for t in win.grid.tiles:
        qtbot.waitUntil(lambda t=t: shows(t.surface, resolver.colour(t.camera.id)), timeout=5000)

    model.set_kind("3x3")
    assert len(win.grid.tiles) == 9 and win.grid.tiles[:4] == keep
    assert model.cameras[4:] == (None,) * 5  # dropped by the shrink to 2x2
    for i in range(4, 9):
        model.assign(i, f"cam{i:02d}")
    qtbot.waitUntil(lambda: all_playing(win), timeout=15_000)
    for t in win.grid.tiles:
        qtbot.waitUntil(lambda t=t: shows(t.surface, resolver.colour(t.camera.id)), timeout=5000)
    first = grab(win.grid)
    qtbot.waitUntil(lambda: differs(first, grab(win.grid)), timeout=3000)


def test_number_keys_switch_layouts(qtbot, make_wall) -> None:
    model = WallModel("2x2")
    win = make_wall(model, 640, 360)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    for key, kind in ((Qt.Key.Key_4, "4x4"), (Qt.Key.Key_7, "1+5"), (Qt.Key.Key_9, "1+12"),
                      (Qt.Key.Key_1, "1x1")):
        qtbot.keyClick(win, key)
        assert model.kind == kind
        assert len(win.grid.tiles) == len(model)
    tile = win.grid.tiles[0]
    qtbot.waitUntil(lambda: tile.geometry().size() == win.grid.size())  # layout is lazy


def test_1_plus_5_spans(qtbot, make_wall) -> None:
    model = WallModel("1+5")
    win = make_wall(model, 900, 600)
    big, small = win.grid.tiles[0], win.grid.tiles[1]
    qtbot.waitUntil(lambda: abs(big.width() - 2 * small.width()) <= 3)
    assert abs(big.height() - 2 * small.height()) <= 3


def test_drag_camera_from_tree_onto_tile(qtbot, make_wall, resolver: Resolver) -> None:
    model = WallModel("2x2", ["cam00"])
    win = make_wall(model)
    panel = CameraTreePanel(CATALOG)
    qtbot.addWidget(panel)
    panel.search.setText("cam03")
    qtbot.waitUntil(lambda: [i.data(0, Qt.ItemDataRole.UserRole) for i in panel.camera_items()] == ["cam03"])
    item = panel.camera_items()[0]
    mime = panel.tree.mimeData([item])
    assert mime.formats() == [CAMERA_MIME]

    target = win.grid.tiles[2]
    pos = QPointF(target.rect().center())
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    assert drop.isAccepted()
    assert model.cameras == ("cam00", None, "cam03", None)
    qtbot.waitUntil(lambda: target.state == TileState.playing
                    and shows(target.surface, resolver.colour("cam03")), timeout=10_000)


def test_maximize_switches_to_main_and_restore_back_to_sub(qtbot, make_wall,
                                                           resolver: Resolver) -> None:
    model = WallModel("2x2", ["cam00", "cam01", "cam02", "cam03"])
    win = make_wall(model)
    qtbot.waitUntil(lambda: all_playing(win), timeout=15_000)
    tile = win.grid.tiles[0]
    assert tile.profile == "sub" and all(t.profile == "sub" for t in win.grid.tiles)

    with qtbot.waitSignal(tile.profile_changed, timeout=3000) as sig:
        qtbot.mouseDClick(tile.surface, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert sig.args == ["main"] and model.maximized == 0
    others = win.grid.tiles[1:]
    assert all(not t.isVisible() and t.state == TileState.stopped for t in others)
    assert video.live_player_count() == 4 and all(t.player.frames() == 0 for t in others)
    qtbot.waitUntil(lambda: tile.state == TileState.playing
                    and tile.player.url == resolver.streams.url(resolver.stream_index("cam00", "main")),
                    timeout=10_000)
    assert ("cam00", "main") in resolver.calls
    qtbot.waitUntil(lambda: tile.player.video_size() == (640, 360), timeout=5000)
    qtbot.waitUntil(lambda: shows(tile.surface, resolver.colour("cam00")), timeout=5000)

    with qtbot.waitSignal(tile.profile_changed, timeout=3000) as sig:
        qtbot.mouseDClick(tile.surface, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert sig.args == ["sub"] and model.maximized is None
    qtbot.waitUntil(lambda: all_playing(win) and all(t.isVisible() for t in win.grid.tiles),
                    timeout=15_000)
    assert tile.player.video_size() in ((320, 180), (0, 0))
    qtbot.waitUntil(lambda: tile.player.video_size() == (320, 180), timeout=5000)


def test_click_selects_and_highlights(qtbot, make_wall) -> None:
    model = WallModel("2x2")
    win = make_wall(model, 400, 300)
    qtbot.mouseClick(win.grid.tiles[3].surface, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert model.selected == 3 and win.grid.tiles[3].property("selected") is True
    assert model.place("cam05") == 3


def test_hidden_wall_stops_every_tile(qtbot, make_wall) -> None:
    model = WallModel("2x2", ["cam00", "cam01"])
    win = make_wall(model, 640, 360)
    qtbot.waitUntil(lambda: all_playing(win), timeout=15_000)
    win.grid.hide()
    assert all(t.state in (TileState.stopped, TileState.idle) for t in win.grid.tiles)
    win.grid.show()
    qtbot.waitUntil(lambda: all_playing(win), timeout=15_000)
