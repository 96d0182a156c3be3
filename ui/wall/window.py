"""One wall per screen: a frameless-capable top-level window holding a WallGrid."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QScreen
from PySide6.QtWidgets import QMainWindow, QWidget

from console.wall import LAYOUT_KINDS, WallModel
from ui.wall.grid import CameraLookup, WallGrid
from ui.wall.tile import Resolver

log = logging.getLogger("rtcc.wall")


def layout_actions(parent: QWidget, model: WallModel) -> list[QAction]:
    """Actions 1..9 that switch ``model`` among the nine layout kinds (in LAYOUT_KINDS order)."""
    actions = []
    for number, kind in enumerate(LAYOUT_KINDS, start=1):
        action = QAction(f"Layout {kind}", parent)
        action.setShortcut(QKeySequence(str(number)))
        action.triggered.connect(lambda _=False, k=kind: model.set_kind(k))
        actions.append(action)
    return actions


def toggle_full_screen(window: QWidget) -> None:
    if window.isFullScreen():
        window.showNormal()
    else:
        window.showFullScreen()


def full_screen_action(window: QWidget) -> QAction:
    action = QAction("Full screen", window)
    action.setShortcut(QKeySequence(Qt.Key.Key_F11))
    action.triggered.connect(lambda: toggle_full_screen(window))
    return action


class WallWindow(QMainWindow):
    def __init__(self, model: WallModel, resolver: Resolver,
                 cameras: CameraLookup = lambda _id: None, parent: QWidget | None = None,
                 *, title: str = "Video wall") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.model = model
        self.grid = WallGrid(model, resolver, cameras, self)
        self.setCentralWidget(self.grid)
        for action in [*layout_actions(self, model), full_screen_action(self)]:
            self.addAction(action)
        restore = QAction("Restore tile", self)
        restore.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        restore.triggered.connect(model.restore)
        self.addAction(restore)

    def place_on(self, screen: QScreen, *, full_screen: bool = True) -> None:
        self.setScreen(screen)
        self.setGeometry(screen.availableGeometry())
        if full_screen:
            self.showFullScreen()
        else:
            self.show()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.grid.shutdown()
        super().closeEvent(event)


def open_screen_walls(models: list[WallModel], resolver: Resolver,
                      cameras: CameraLookup = lambda _id: None, *, first_screen: int = 1,
                      full_screen: bool = True) -> list[WallWindow]:
    """One WallWindow per model on screens[first_screen + i] (screen 0 holds the main window).
    Models beyond the number of screens get no window (logged)."""
    screens = QGuiApplication.screens()
    windows = []
    for i, model in enumerate(models):
        s = first_screen + i
        if s >= len(screens):
            log.warning("no screen %d for wall %d (%d screens)", s, i, len(screens))
            continue
        win = WallWindow(model, resolver, cameras, title=f"Video wall — screen {s + 1}")
        win.place_on(screens[s], full_screen=full_screen)
        windows.append(win)
    return windows
