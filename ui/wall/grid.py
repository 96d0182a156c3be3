"""A wall layout of video tiles (QGridLayout with spans) that follows a console.wall.WallModel.

Tiles are kept by cell index across layout changes, so a camera that stays in its cell keeps
playing. Tiles that are not visible (another tile maximized, the grid hidden) are stopped.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import ValidationError
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QWidget

from console.model import Camera
from console.tile_state import DEFAULT_TIMING, Timing
from console.wall import GridSpec, WallModel
from ui.wall.tile import Resolver, VideoTile

log = logging.getLogger("rtcc.wall")

CameraLookup = Callable[[str], Camera | None]


def _placeholder(camera_id: str) -> Camera | None:
    try:
        return Camera(id=camera_id, name=f"{camera_id} (not in catalog)", owner_agency="unknown",
                      lat=0.0, lon=0.0)
    except ValidationError:
        log.warning("ignoring malformed camera id %r on the wall", camera_id)
        return None


class WallGrid(QWidget):
    def __init__(self, model: WallModel, resolver: Resolver,
                 cameras: CameraLookup = lambda _id: None, parent: QWidget | None = None, *,
                 timing: Timing = DEFAULT_TIMING, spacing: int = 1) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.model = model
        self._resolver = resolver
        self._lookup = cameras
        self._timing = timing
        self._tiles: list[VideoTile] = []
        self._shown_rows = self._shown_cols = 0
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(spacing)
        self._visible = True
        model.events.layout.connect(self._on_layout)
        model.events.camera.connect(self._on_camera)
        model.events.selected.connect(self._on_selected)
        model.events.maximized.connect(self._on_maximized)
        self._on_layout(model.grid)

    @property
    def tiles(self) -> tuple[VideoTile, ...]:
        return tuple(self._tiles)

    def tile(self, index: int) -> VideoTile:
        return self._tiles[index]

    def shutdown(self) -> None:
        """Stop every tile and stop following the model (before the grid is deleted)."""
        for sig, slot in ((self.model.events.layout, self._on_layout),
                          (self.model.events.camera, self._on_camera),
                          (self.model.events.selected, self._on_selected),
                          (self.model.events.maximized, self._on_maximized)):
            sig.disconnect(slot)
        for tile in self._tiles:
            tile.shutdown()

    # --- model -> view ---------------------------------------------------------------------------
    def _camera(self, camera_id: str | None) -> Camera | None:
        if camera_id is None:
            return None
        return self._lookup(camera_id) or _placeholder(camera_id)

    def _make_tile(self) -> VideoTile:
        tile = VideoTile(self._resolver, self, timing=self._timing)
        tile.clicked.connect(lambda: self.model.select(self._index(tile)))
        tile.double_clicked.connect(lambda: self.model.toggle_maximized(self._index(tile)))
        tile.dropped.connect(lambda cam: self.model.assign(self._index(tile), cam))
        return tile

    def _index(self, tile: VideoTile) -> int:
        return self._tiles.index(tile)

    def _on_layout(self, grid: GridSpec) -> None:
        n = len(grid)
        while len(self._tiles) > n:
            gone = self._tiles.pop()
            gone.shutdown()
            self._grid.removeWidget(gone)
            gone.deleteLater()
        while len(self._tiles) < n:
            self._tiles.append(self._make_tile())
        self._place_all()
        for i, cam in enumerate(self.model.cameras):
            self._tiles[i].set_camera(self._camera(cam))
        self._on_selected(self.model.selected)
        self._on_maximized(self.model.maximized)

    def _set_stretch(self, rows: int, cols: int) -> None:
        for r in range(max(rows, self._shown_rows)):
            self._grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(max(cols, self._shown_cols)):
            self._grid.setColumnStretch(c, 1 if c < cols else 0)
        self._shown_rows, self._shown_cols = rows, cols

    def _place_all(self) -> None:
        grid = self.model.grid
        for tile in self._tiles:
            self._grid.removeWidget(tile)
        self._set_stretch(grid.rows, grid.cols)
        for tile, cell in zip(self._tiles, grid.cells, strict=True):
            self._grid.addWidget(tile, cell.row, cell.col, cell.row_span, cell.col_span)

    def _on_camera(self, index: int, camera_id: str | None) -> None:
        if index < len(self._tiles):
            self._tiles[index].set_camera(self._camera(camera_id))

    def _on_selected(self, index: int | None) -> None:
        for i, tile in enumerate(self._tiles):
            tile.set_selected(i == index)

    def _on_maximized(self, index: int | None) -> None:
        grid = self.model.grid
        if index is None:
            self._place_all()
        else:
            for tile in self._tiles:
                self._grid.removeWidget(tile)
            self._grid.addWidget(self._tiles[index], 0, 0, grid.rows, grid.cols)
        for i, tile in enumerate(self._tiles):
            shown = index is None or i == index
            tile.setVisible(shown)
            tile.set_maximized(i == index)
            tile.set_active(shown and self._visible)

    # --- visibility: a hidden wall plays nothing ------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not event.spontaneous() and not self._visible:
            self._visible = True
            self._on_maximized(self.model.maximized)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if not event.spontaneous() and self._visible:
            self._visible = False
            for tile in self._tiles:
                tile.set_active(False)
