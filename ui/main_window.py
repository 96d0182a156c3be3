"""The operator's main window: camera tree on the left, screen 0's wall in the centre, a status
bar. Assembly only: the lead's ui/app.py wires it to the backend."""
from __future__ import annotations

import logging
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QWidget

from console.catalog import CameraCatalog
from console.wall import WallModel
from ui.panels.cameras import CameraTreePanel
from ui.wall.grid import WallGrid
from ui.wall.tile import Resolver
from ui.wall.window import (
    WallWindow,
    full_screen_action,
    layout_actions,
    open_screen_walls,
)

log = logging.getLogger("rtcc.ui")

Level = Literal["info", "warning", "error"]


class MainWindow(QMainWindow):
    def __init__(self, catalog: CameraCatalog, walls: list[WallModel], resolver: Resolver,
                 parent: QWidget | None = None, *, title: str = "RTCC Console") -> None:
        super().__init__(parent)
        if not walls:
            raise ValueError("MainWindow needs at least one wall model (screen 0)")
        self.setWindowTitle(title)
        self.catalog = catalog
        self.walls = walls
        self._resolver = resolver
        self.screen_walls: list[WallWindow] = []

        self.wall = WallGrid(walls[0], resolver, catalog.get, self)
        self.setCentralWidget(self.wall)

        self.cameras = CameraTreePanel(catalog, self)
        self.cameras.camera_activated.connect(walls[0].place)
        dock = QDockWidget("Cameras", self)
        dock.setObjectName("camerasDock")
        dock.setWidget(self.cameras)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

        self._status = QLabel(self)
        self.statusBar().addWidget(self._status, 1)

        view = self.menuBar().addMenu("&View")
        for action in layout_actions(self, walls[0]):
            view.addAction(action)
        view.addSeparator()
        view.addAction(full_screen_action(self))
        view.addAction(dock.toggleViewAction())

    def show_status(self, text: str, level: Level = "info") -> None:
        """A message for the operator (e.g. "offline — showing cached layouts")."""
        self._status.setText(text)
        self._status.setProperty("level", level)
        self._status.style().unpolish(self._status)
        self._status.style().polish(self._status)
        getattr(log, level)("status: %s", text)

    def status_text(self) -> str:
        return self._status.text()

    def open_screen_walls(self, *, full_screen: bool = True) -> list[WallWindow]:
        """A WallWindow for walls[1:] on screens 1.. (if the machine has them)."""
        self.screen_walls = open_screen_walls(self.walls[1:], self._resolver, self.catalog.get,
                                              full_screen=full_screen)
        return self.screen_walls

    def closeEvent(self, event: QCloseEvent) -> None:
        self.wall.shutdown()
        for win in self.screen_walls:
            win.close()
        super().closeEvent(event)
