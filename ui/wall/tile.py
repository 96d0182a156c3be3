"""One wall tile: a title strip above a native video surface, driven by console.tile_state.

The strip (camera name, state badge, age of the last picture) is a separate widget: nothing is
ever painted over the native surface libVLC draws into. When the stream goes away the last
picture (a libVLC snapshot) is painted by Qt into the surface once libVLC's window is gone, so
the operator keeps seeing it, marked STALE, until the stream is back.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QWidget,
)

from console import tile_state as ts
from console.model import Camera, StreamProfileName
from console.tile_state import DEFAULT_TIMING, Action, TileState, TileStatus, Timing
from console.wall import choose_profile
from ui import tasks
from console.logsafe import mask_url
from ui.wall.video import VideoPlayer, url_problem

log = logging.getLogger("rtcc.wall")

CAMERA_MIME = "application/x-rtcc-camera-id"
#: Blocking: returns a fresh (tokenized) URL for a camera's profile; runs in a worker thread.
Resolver = Callable[[str, str], str]

_BADGES = {
    TileState.idle: "", TileState.connecting: "CONNECTING", TileState.playing: "LIVE",
    TileState.stalled: "STALE", TileState.reconnecting: "STALE · RECONNECTING",
    TileState.error: "ERROR", TileState.stopped: "STOPPED",
}
_SNAP_DIR = Path(tempfile.gettempdir()) / f"rtcc-snapshots-{os.getpid()}"


def camera_mime(camera_id: str) -> QMimeData:
    data = QMimeData()
    data.setData(CAMERA_MIME, camera_id.encode("utf-8"))
    return data


def camera_id_from_mime(data: QMimeData) -> str | None:
    if not data.hasFormat(CAMERA_MIME):
        return None
    text = bytes(data.data(CAMERA_MIME).data()).decode("utf-8", "replace").strip()
    return text or None


class VideoSurface(QFrame):
    """The native child window libVLC draws into; Qt paints only the kept still (or black)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("tileVideo")
        self.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.setAttribute(Qt.WidgetAttribute.WA_DontCreateNativeAncestors)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(16, 9)
        self.still: QPixmap | None = None

    def set_still(self, pixmap: QPixmap | None) -> None:
        self.still = pixmap
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.GlobalColor.black)
        if self.still is not None and not self.still.isNull():
            scaled = self.still.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
            p.drawPixmap((self.width() - scaled.width()) // 2,
                         (self.height() - scaled.height()) // 2, scaled)
        p.end()


class VideoTile(QWidget):
    state_changed = Signal(str)
    profile_changed = Signal(str)
    double_clicked = Signal()
    clicked = Signal()
    dropped = Signal(str)  # a camera id dropped onto this tile

    def __init__(self, resolver: Resolver, parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.monotonic, timing: Timing = DEFAULT_TIMING,
                 watchdog_ms: int = 250, strip_beside: bool = False) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAcceptDrops(True)
        self.setProperty("selected", False)
        self._resolver = resolver
        self._clock = clock
        self._status = TileStatus(timing=timing)
        self._camera: Camera | None = None
        self._active = True
        self._maximized = False
        self._profile: StreamProfileName = "sub"
        self._player: VideoPlayer | None = None
        self._bound = False
        self._start_pending = False
        self._generation = 0  # guards resolver results against camera/profile changes
        self._frames = 0
        self._last_frame_at: float | None = None

        self._strip = QWidget(self)
        self._strip.setObjectName("tileStrip")
        self._name = QLabel(self._strip, objectName="tileName")
        self._name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._name.setMinimumWidth(60)  # a long error reason must not hide the camera name
        self._badge = QLabel(self._strip, objectName="tileState")
        self._badge.setMinimumWidth(1)  # clipped when long; the full reason is its tooltip
        self._age = QLabel(self._strip, objectName="tileAge")
        row = QHBoxLayout(self._strip)
        row.setContentsMargins(4, 1, 4, 1)
        row.setSpacing(6)
        row.addWidget(self._name, 1)
        row.addWidget(self._age)
        row.addWidget(self._badge)
        if strip_beside:
            row.setDirection(QBoxLayout.Direction.TopToBottom)
        self.surface = VideoSurface(self)
        outer = QBoxLayout(QBoxLayout.Direction.LeftToRight if strip_beside
                           else QBoxLayout.Direction.TopToBottom, self)
        outer.setContentsMargins(1, 1, 1, 1)
        outer.setSpacing(0)
        outer.addWidget(self._strip)
        outer.addWidget(self.surface, 1)

        self._watchdog = QTimer(self)
        self._watchdog.setInterval(watchdog_ms)
        self._watchdog.timeout.connect(self._on_watchdog)
        self._render_strip()

    # --- read side (also used by tests) -------------------------------------------------------
    @property
    def camera(self) -> Camera | None:
        return self._camera

    @property
    def state(self) -> TileState:
        return self._status.state

    @property
    def status(self) -> TileStatus:
        return self._status

    @property
    def profile(self) -> StreamProfileName:
        return self._profile

    @property
    def player(self) -> VideoPlayer | None:
        return self._player

    @property
    def badge_text(self) -> str:
        return self._badge.text()

    def last_frame_age(self) -> float | None:
        return None if self._last_frame_at is None else self._clock() - self._last_frame_at

    # --- control ------------------------------------------------------------------------------
    def set_camera(self, camera: Camera | None) -> None:
        if camera is not None and self._camera is not None and camera.id == self._camera.id:
            self._camera = camera  # same camera, fresher details
            self._render_strip()
            return
        self._apply(ts.close(self._status, self._clock()))
        self._camera = camera
        self.surface.set_still(None)
        self._last_frame_at = None
        self._status = TileStatus(timing=self._status.timing)
        self._open_if_wanted()
        self._render_strip()

    def set_active(self, active: bool) -> None:
        """Inactive tiles (hidden, other layout) stop their player and watchdog."""
        if active == self._active:
            return
        self._active = active
        if active:
            self._open_if_wanted()
        else:
            self._apply(ts.close(self._status, self._clock()))
            self._watchdog.stop()

    def set_maximized(self, maximized: bool) -> None:
        self._maximized = maximized
        self._check_profile()

    def set_selected(self, selected: bool) -> None:
        self.setProperty("selected", selected)
        self.style().unpolish(self)
        self.style().polish(self)

    def reopen(self) -> None:
        """Start over with a fresh URL (e.g. after a profile switch)."""
        if self._camera is not None and self._active:
            self._apply(ts.open_(self._status, self._clock()))

    def shutdown(self) -> None:
        """Stop everything this tile runs; call before the tile is deleted."""
        self._watchdog.stop()
        self._generation += 1
        self._status, _ = ts.close(self._status, self._clock())
        if self._player is not None:
            self._player.release()
            self._player.deleteLater()
            self._player = None
        self._bound = False

    # --- the state machine driver -----------------------------------------------------------------
    def _open_if_wanted(self) -> None:
        if self._camera is None or not self._active:
            self._watchdog.stop()
            return
        if not self._status.live:
            self._apply(ts.open_(self._status, self._clock()))
        self._watchdog.start()

    def _apply(self, result: ts.Result) -> None:
        old = self._status.state
        self._status, actions = result
        for action in actions:
            if action == Action.START:
                self._start()
            elif action == Action.STOP:
                self._stop_player()
            elif action == Action.SNAPSHOT:
                self._keep_last_picture()
        if self._status.state != old:
            log.info("tile %s: %s -> %s %s", self._camera.id if self._camera else "-", old,
                     self._status.state, self._status.reason)
            self._render_strip()
            self.state_changed.emit(str(self._status.state))

    def _start(self) -> None:
        if self._camera is None:
            return
        if not self.surface.isVisible():
            self._start_pending = True  # bound and started in showEvent
            return
        self._start_pending = False
        self._profile_for_size(emit=True)
        self._generation += 1
        gen, cam_id, profile = self._generation, self._camera.id, self._profile
        resolver = self._resolver
        tasks.run(lambda: resolver(cam_id, profile),
                  lambda url: self._on_url(gen, url),
                  lambda exc: self._on_url_error(gen, exc), owner=self)

    def _on_url(self, gen: int, url: str) -> None:
        if gen != self._generation or not self._status.live:
            return
        problem = url_problem(url)
        if problem is not None:
            log.warning("tile %s: %s (%s)", self._camera.id if self._camera else "-", problem,
                        mask_url(url))
            self._apply(ts.url_error(self._status, self._clock(), problem))
            return
        player = self._ensure_player()
        self._frames = 0
        player.play(url)

    def _on_first_picture(self) -> None:
        now = self._clock()
        self._last_frame_at = now
        self._apply(ts.first_frame(self._status, now))

    def _on_url_error(self, gen: int, exc: BaseException) -> None:
        if gen != self._generation:
            return
        reason = f"no stream URL: {exc}" if str(exc) else f"no stream URL ({type(exc).__name__})"
        self._apply(ts.url_error(self._status, self._clock(), reason, retry=True))

    def _ensure_player(self) -> VideoPlayer:
        if self._player is None:
            self._player = VideoPlayer(self)
            self._player.ended.connect(lambda: self._apply(ts.eos(self._status, self._clock())))
            self._player.first_picture.connect(self._on_first_picture)
            self._player.failed.connect(
                lambda reason: self._apply(ts.vlc_error(self._status, self._clock(), reason)))
        if not self._bound:
            self._player.bind(int(self.surface.winId()))
            self._bound = True
        return self._player

    def _stop_player(self) -> None:
        self._generation += 1
        if self._player is not None:
            self._player.stop()
        self.surface.update()  # libVLC's window is gone: show the still (or black)

    def _keep_last_picture(self) -> None:
        if self._player is None:
            return
        _SNAP_DIR.mkdir(exist_ok=True)
        path = _SNAP_DIR / f"{id(self):x}.png"
        t0 = time.perf_counter()
        if self._player.snapshot(path):
            pixmap = QPixmap(str(path))
            path.unlink(missing_ok=True)
            if not pixmap.isNull():
                self.surface.set_still(pixmap)
        log.debug("snapshot took %.1f ms", (time.perf_counter() - t0) * 1000)

    def _on_watchdog(self) -> None:
        now = self._clock()
        if self._player is not None and self._status.live:
            frames = self._player.frames()
            if frames > self._frames:
                self._last_frame_at = now
                self._apply(ts.progress(self._status, now))
            self._frames = frames
        self._apply(ts.tick(self._status, now))
        self._check_profile()
        self._render_age(now)

    # --- stream profile -----------------------------------------------------------------------------
    def _profile_for_size(self, emit: bool) -> bool:
        dpr = self.devicePixelRatioF()
        want = choose_profile(self._profile, round(self.surface.width() * dpr),
                              round(self.surface.height() * dpr), maximized=self._maximized)
        if self._camera is not None and self._camera.streams and self._camera.stream(want) is None:
            want = self._camera.streams[0].profile  # the camera has only one encoding
        if want == self._profile:
            return False
        self._profile = want
        if emit:
            self.profile_changed.emit(want)
        return True

    def _check_profile(self) -> None:
        if not self.surface.isVisible():
            return
        if self._profile_for_size(emit=True) and self._status.state in (
                TileState.connecting, TileState.playing, TileState.stalled):
            self.reopen()

    # --- presentation -------------------------------------------------------------------------
    def _render_strip(self) -> None:
        cam = self._camera
        self._name.setText(cam.name if cam else "")
        self._name.setToolTip(f"{cam.name} ({cam.id}) · {cam.owner_agency}" if cam else "")
        state = self._status.state
        text = _BADGES[state] if cam else ""
        if state == TileState.error and self._status.reason:
            text = f"ERROR: {self._status.reason}"
        self._badge.setText(text)
        self._badge.setToolTip(self._status.reason)
        self._badge.setProperty("state", str(state))
        self._badge.style().unpolish(self._badge)
        self._badge.style().polish(self._badge)
        self._render_age(self._clock())

    def _render_age(self, now: float) -> None:
        if self._last_frame_at is None or self._camera is None:
            self._age.setText("")
            return
        age = now - self._last_frame_at
        self._age.setText("" if age < 1.0 and self._status.state == TileState.playing
                          else f"last picture {age:.0f}s ago")

    # --- Qt events ------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._start_pending and self._status.live:
            QTimer.singleShot(0, self, self._start_if_still_pending)

    def _start_if_still_pending(self) -> None:
        if self._start_pending and self._status.live:
            self._start()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.double_clicked.emit()
        super().mouseDoubleClickEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(CAMERA_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QEvent) -> None:  # type: ignore[override]
        event.acceptProposedAction()  # type: ignore[attr-defined]

    def dropEvent(self, event: QDropEvent) -> None:
        camera_id = camera_id_from_mime(event.mimeData())
        if camera_id is None:
            return
        event.acceptProposedAction()
        self.dropped.emit(camera_id)

