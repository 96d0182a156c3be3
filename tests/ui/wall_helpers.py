"""Helpers for the wall's UI tests: pixels from the X server, cameras, hosts that clean up."""
from __future__ import annotations

import statistics

from PySide6.QtCore import QPoint
from PySide6.QtGui import QCloseEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QVBoxLayout, QWidget

from console.model import Camera, StreamInfo
from ui.wall.tile import VideoTile


def camera(i: int, name: str | None = None) -> Camera:
    return Camera(
        id=f"cam{i:02d}", name=name or f"Camera {i:02d}", owner_agency="LAPD",
        division=1 + i % 21, division_name=f"Division {chr(65 + i % 21)}", lat=34.05, lon=-118.25,
        streams=[StreamInfo(profile="sub", width=320, height=180, fps=15),
                 StreamInfo(profile="main", width=640, height=360, fps=15)])


def grab(widget: QWidget) -> QImage:
    """What the X server shows at the widget's rect (libVLC's drawing included;
    QWidget.grab() would return black for the native video surface)."""
    top_left = widget.mapToGlobal(QPoint(0, 0))
    screen = QGuiApplication.primaryScreen()
    pix = screen.grabWindow(0, top_left.x(), top_left.y(), widget.width(), widget.height())
    return pix.toImage().convertToFormat(QImage.Format.Format_RGB32)


def dominant_colour(img: QImage) -> tuple[int, int, int]:
    """Per-channel median of a sample grid (the moving white box is a small minority)."""
    rs, gs, bs = [], [], []
    w, h = img.width(), img.height()
    for y in range(h // 20, h, max(1, h // 10)):
        for x in range(w // 20, w, max(1, w // 16)):
            c = img.pixelColor(x, y)
            rs.append(c.red())
            gs.append(c.green())
            bs.append(c.blue())
    return (int(statistics.median(rs)), int(statistics.median(gs)), int(statistics.median(bs)))


def close_to(a: tuple[int, int, int], b: tuple[int, int, int], tol: int = 45) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def shows(widget: QWidget, colour: tuple[int, int, int]) -> bool:
    return close_to(dominant_colour(grab(widget)), colour)


def differs(a: QImage, b: QImage) -> bool:
    return a.size() == b.size() and a != b


class TileHost(QWidget):
    """A top-level window holding one tile; closing it shuts the tile down."""

    def __init__(self, tile_factory: type[VideoTile] = VideoTile, **kw: object) -> None:
        super().__init__()
        self.tile = tile_factory(**kw)  # type: ignore[arg-type]
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.tile)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tile.shutdown()
        super().closeEvent(event)
