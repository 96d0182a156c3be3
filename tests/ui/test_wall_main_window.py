"""MainWindow assembly, the camera tree panel, theme and Qt log routing (no video needed)."""
from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import Qt, qWarning
from PySide6.QtWidgets import QApplication
from wall_helpers import camera
from wall_streams import Resolver

from console.catalog import CameraCatalog
from console.tile_state import TileState
from console.wall import LAYOUT_KINDS, WallModel
from ui import qtlog, tasks, theme
from ui.main_window import MainWindow
from ui.panels.cameras import CameraTreePanel
from ui.wall.tile import CAMERA_MIME, camera_id_from_mime


@pytest.fixture
def main_window(qtbot, resolver: Resolver):  # type: ignore[no-untyped-def]
    catalog = CameraCatalog([camera(i) for i in range(6)])
    win = MainWindow(catalog, [WallModel("2x2"), WallModel("3x3")], resolver)
    qtbot.addWidget(win)
    win.resize(1200, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def test_main_window_menu_status_and_activation(qtbot, main_window: MainWindow) -> None:
    view = main_window.menuBar().actions()[0].menu()
    texts = [a.text() for a in view.actions() if a.text()]
    assert texts[:9] == [f"Layout {k}" for k in LAYOUT_KINDS]
    assert "Full screen" in texts
    view.actions()[2].trigger()
    assert main_window.walls[0].kind == "3x3"
    main_window.show_status("offline — showing cached layouts", "warning")
    assert main_window.status_text() == "offline — showing cached layouts"
    # double-click in the tree puts the camera on the first empty cell of screen 0's wall
    item = main_window.cameras.camera_items()[0]
    main_window.cameras._on_activated(item)
    cam_id = item.data(0, Qt.ItemDataRole.UserRole)
    assert main_window.walls[0].cameras[0] == cam_id
    tile = main_window.wall.tiles[0]
    qtbot.waitUntil(lambda: tile.state == TileState.playing, timeout=10_000)
    # a screen-1 wall gets a window only if the machine has a second screen
    assert main_window.open_screen_walls(full_screen=False) == [] or len(QApplication.screens()) > 1


def test_tree_groups_and_live_search(qtbot) -> None:
    catalog = CameraCatalog([camera(i) for i in range(6)])
    panel = CameraTreePanel(catalog, search_delay_ms=10)
    qtbot.addWidget(panel)
    assert panel.tree.topLevelItemCount() == 6  # six divisions, one owner each
    assert panel.tree.topLevelItem(0).child(0).text(0) == "LAPD (1)"
    panel.search.setText("division f lapd")
    qtbot.waitUntil(lambda: len(panel.camera_items()) == 1)
    assert panel.camera_items()[0].data(0, Qt.ItemDataRole.UserRole) == "cam05"
    mime = panel.tree.mimeData(panel.camera_items())
    assert camera_id_from_mime(mime) == "cam05" and mime.hasFormat(CAMERA_MIME)
    with qtbot.waitSignal(panel.camera_activated) as sig:
        panel.tree.itemDoubleClicked.emit(panel.camera_items()[0], 0)
    assert sig.args == ["cam05"]
    catalog.set_cameras([camera(i) for i in range(6, 9)])  # catalog events refresh the tree
    assert panel.camera_items() == []
    panel.search.clear()
    qtbot.waitUntil(lambda: len(panel.camera_items()) == 3)


def test_dark_theme_and_qt_messages_in_python_logging(qtbot, caplog) -> None:
    app = QApplication.instance()
    theme.apply_dark_theme(app)
    assert "VideoTile" in app.styleSheet()
    assert app.palette().window().color().name() == "#1e2126"
    qtlog.install()
    try:
        with caplog.at_level(logging.WARNING, logger="rtcc.qt"):
            qWarning("hello from Qt")
        assert any(r.name == "rtcc.qt" and r.message == "hello from Qt" for r in caplog.records)
    finally:
        qtlog.uninstall()
        app.setStyleSheet("")


def test_tasks_deliver_results_and_errors_on_the_gui_thread(qtbot) -> None:
    import threading
    gui = threading.get_ident()
    got: list[tuple[str, object, bool]] = []
    tasks.run(lambda: threading.get_ident(),
              lambda r: got.append(("done", r != gui, threading.get_ident() == gui)))
    tasks.run(lambda: 1 / 0, None,
              lambda e: got.append(("error", type(e).__name__, threading.get_ident() == gui)))
    threading.Thread(target=lambda: tasks.post(
        lambda: got.append(("post", None, threading.get_ident() == gui)))).start()
    qtbot.waitUntil(lambda: len(got) == 3)
    assert sorted(got) == [("done", True, True), ("error", "ZeroDivisionError", True),
                           ("post", None, True)]
