"""The console application: QApplication + qasync loop, sign-in, and the wiring of the
session (console/session.py) to the catalog, the walls and the main window."""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from console.catalog import CameraCatalog
from console.model import Layout
from console.session import AuthFailed, ConsoleSession, Snapshot
from console.wall import WallModel
from ui import qtlog, tasks
from ui.main_window import MainWindow
from ui.theme import apply_dark_theme
from ui.wall.tile import VideoTile
from ui.wall.video import vlc_instance

log = logging.getLogger("rtcc.app")

RETRY_OFFLINE_MS = 5000
SAVE_DEBOUNCE_MS = 800
DEFAULT_KIND = "4x4"


def ensure_qapp() -> QApplication:
    app = QApplication.instance()
    if app is None:
        if os.geteuid() == 0 and "--no-sandbox" not in os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", ""):
            log.warning("running as root: QtWebEngine needs --no-sandbox; the map will not load "
                        "unless QTWEBENGINE_CHROMIUM_FLAGS includes it")
        app = QApplication(sys.argv[:1])
        app.setApplicationName("RTCC Console")
        app.setOrganizationName("rtcc")
        qtlog.install()
        apply_dark_theme(app)
    return app


def default_layout_kind(count: int) -> str:
    for kind, n in (("1x1", 1), ("2x2", 4), ("3x3", 9), ("4x4", 16), ("5x5", 25)):
        if count <= n:
            return kind
    return "8x8"


class ConsoleApp(QObject):
    """Owns the window and keeps it in step with the backend (or the cache when offline)."""

    def __init__(self, session: ConsoleSession, *, screens: int | None = None,
                 on_ready: Callable[["ConsoleApp"], None] | None = None):
        super().__init__()
        self.session = session
        self.catalog = CameraCatalog()
        count = screens or max(1, len(QGuiApplication.screens()))
        self.walls = [WallModel(DEFAULT_KIND) for _ in range(count)]
        self._layout_ids: dict[int, int | None] = {i: None for i in range(count)}
        self._loading = False
        self.online: bool | None = None
        self._on_ready = on_ready
        self.window = MainWindow(self.catalog, self.walls, self._resolve)
        self._retry = QTimer(self, singleShot=True, interval=RETRY_OFFLINE_MS)
        self._retry.timeout.connect(self.connect)
        self._save_timers: dict[int, QTimer] = {}
        for screen, model in enumerate(self.walls):
            timer = QTimer(self, singleShot=True, interval=SAVE_DEBOUNCE_MS)
            timer.timeout.connect(lambda s=screen: self._save(s))
            self._save_timers[screen] = timer
            model.events.layout.connect(lambda *_a, s=screen: self._changed(s))
            model.events.camera.connect(lambda *_a, s=screen: self._changed(s))

    def _resolve(self, camera_id: str, profile: str) -> str:
        return self.session.resolve(camera_id, profile)  # worker thread (tiles use ui.tasks)

    # -- connect / offline ----------------------------------------------------------
    def start(self) -> None:
        # A console owns its screen: fill it (no window manager is needed for this).
        self.window.setGeometry(QGuiApplication.primaryScreen().availableGeometry())
        self.window.show()
        if len(self.walls) > 1:
            self.window.open_screen_walls()
        self.window.show_status(f"Connecting to {self.session.server} …")
        tasks.run(vlc_instance)  # libVLC loads its plugins (~0.3-0.7 s) while we sign in
        self.connect()

    def connect(self) -> None:
        tasks.run(self.session.connect, self._on_snapshot, self._on_connect_error, owner=self)

    def _on_connect_error(self, exc: BaseException) -> None:
        if isinstance(exc, AuthFailed):
            self.window.show_status(str(exc), "error")
            return
        self.window.show_status(f"Cannot load from {self.session.server}: {exc}", "error")
        self._retry.start()

    def _on_snapshot(self, snap: Snapshot) -> None:
        was_online, self.online = self.online, snap.online
        if snap.online or was_online is None:
            self._apply(snap)
        if snap.online:
            who = f"{snap.user.username} ({snap.user.role})" if snap.user else ""
            text = f"Connected to {self.session.server} as {who} — {len(snap.cameras)} cameras"
            if snap.skipped:
                text += f"; {len(snap.skipped)} catalog rows skipped (see log)"
            self.window.show_status(text, "warning" if snap.skipped else "info")
        else:
            when = snap.cached_at.astimezone().strftime("%Y-%m-%d %H:%M") if snap.cached_at else "never"
            self.window.show_status(
                f"Offline — {self.session.server} is unreachable. Showing the catalog and layouts "
                f"cached at {when}; retrying every {RETRY_OFFLINE_MS // 1000} s.", "warning")
            self._retry.start()
        if self._on_ready is not None:
            ready, self._on_ready = self._on_ready, None
            ready(self)

    def _apply(self, snap: Snapshot) -> None:
        self._loading = True
        try:
            self.catalog.set_cameras(snap.cameras)
            by_screen: dict[int, Layout] = {}
            for lay in snap.layouts:
                if lay.active and lay.screen < len(self.walls):
                    by_screen.setdefault(lay.screen, lay)
            ids = [c.id for c in snap.cameras]
            for screen, model in enumerate(self.walls):
                lay = by_screen.get(screen)
                if lay is not None:
                    model.load(lay)
                    self._layout_ids[screen] = lay.id
                else:  # first start of this station: fill the wall from the catalog
                    kind = default_layout_kind(min(len(ids), 16))
                    model.set_kind(kind)
                    for i, cam in enumerate(ids[screen * 16:(screen + 1) * 16][:len(model)]):
                        model.assign(i, cam)
        finally:
            self._loading = False

    # -- layout persistence --------------------------------------------------------
    def _changed(self, screen: int) -> None:
        if not self._loading:
            self._save_timers[screen].start()

    def _save(self, screen: int) -> None:
        layout = self.walls[screen].to_layout_in(station_id=self.session.station_id,
                                                 name=f"Screen {screen + 1}", screen=screen)
        layout_id = self._layout_ids.get(screen)

        def done(saved: Layout) -> None:
            self._layout_ids[screen] = saved.id

        def failed(exc: BaseException) -> None:
            self.window.show_status(f"Layout of screen {screen + 1} not saved: {exc}", "warning")

        tasks.run(lambda: self.session.save_layout(layout, layout_id), done, failed, owner=self)

    def flush(self) -> None:
        """Save pending layout changes now (on close)."""
        for screen, timer in self._save_timers.items():
            if timer.isActive():
                timer.stop()
                layout = self.walls[screen].to_layout_in(station_id=self.session.station_id,
                                                         name=f"Screen {screen + 1}", screen=screen)
                try:
                    self.session.save_layout(layout, self._layout_ids.get(screen))
                except Exception as exc:  # the server may be gone at shutdown: say so, don't crash
                    log.warning("layout of screen %d not saved at exit: %s", screen + 1, exc)

    def tiles(self) -> list[VideoTile]:
        return list(self.window.wall.tiles)

    def close(self) -> None:
        self._retry.stop()
        self.flush()
        self.window.close()


def save_screenshot(path: Path) -> Path:
    """What the X server shows (libVLC draws into native windows, QWidget.grab() is black)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    QGuiApplication.primaryScreen().grabWindow(0).save(str(path))
    return path


def run_event_loop(app: QApplication) -> int:
    """Run Qt through qasync so later services (SSE, outbox) can be coroutines."""
    import qasync
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
    return 0
