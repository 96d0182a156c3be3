"""Pure video-wall logic: layout geometry, the wall model, and stream choice by tile size.

No Qt here: ``WallModel`` emits psygnal events and views (ui/wall) subscribe to them.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from psygnal import Signal, SignalGroup

from console.model import Cell, Layout, LayoutIn, StreamProfileName

log = logging.getLogger("rtcc.wall")

#: The layout kinds in the order the UI offers them (number keys 1..9 pick them).
LAYOUT_KINDS: tuple[str, ...] = ("1x1", "2x2", "3x3", "4x4", "5x5", "8x8", "1+5", "1+7", "1+12")
CUSTOM_KIND = "custom"


@dataclass(frozen=True)
class CellGeom:
    row: int
    col: int
    row_span: int = 1
    col_span: int = 1

    def covers(self) -> set[tuple[int, int]]:
        return {(r, c) for r in range(self.row, self.row + self.row_span)
                for c in range(self.col, self.col + self.col_span)}


@dataclass(frozen=True)
class GridSpec:
    kind: str
    rows: int
    cols: int
    cells: tuple[CellGeom, ...]

    def __len__(self) -> int:
        return len(self.cells)


def validate_grid(kind: str, rows: int, cols: int, cells: Sequence[CellGeom]) -> GridSpec:
    """A grid with arbitrary spans; raises ValueError naming the bad cell."""
    if not (1 <= rows <= 8 and 1 <= cols <= 8):
        raise ValueError(f"layout {kind!r}: rows/cols must be 1..8, got {rows}x{cols}")
    taken: set[tuple[int, int]] = set()
    for i, c in enumerate(cells):
        if c.row < 0 or c.col < 0 or c.row_span < 1 or c.col_span < 1:
            raise ValueError(f"layout {kind!r} cell {i}: bad position/span {c}")
        if c.row + c.row_span > rows or c.col + c.col_span > cols:
            raise ValueError(f"layout {kind!r} cell {i}: {c} outside the {rows}x{cols} grid")
        area = c.covers()
        if area & taken:
            raise ValueError(f"layout {kind!r} cell {i}: {c} overlaps another cell")
        taken |= area
    return GridSpec(kind, rows, cols, tuple(cells))


def _uniform(n: int) -> GridSpec:
    return GridSpec(f"{n}x{n}", n, n, tuple(CellGeom(r, c) for r in range(n) for c in range(n)))


def _one_plus(n: int, grid: int, big: int) -> GridSpec:
    """One ``big``x``big`` cell at the top left of a ``grid``x``grid`` grid, the rest small."""
    cells = [CellGeom(0, 0, big, big)]
    covered = cells[0].covers()
    cells += [CellGeom(r, c) for r in range(grid) for c in range(grid) if (r, c) not in covered]
    assert len(cells) == n + 1, (n, grid, big)
    return GridSpec(f"1+{n}", grid, grid, tuple(cells))


_KINDS: dict[str, GridSpec] = {
    **{f"{n}x{n}": _uniform(n) for n in (1, 2, 3, 4, 5, 8)},
    "1+5": _one_plus(5, 3, 2),
    "1+7": _one_plus(7, 4, 3),
    "1+12": _one_plus(12, 4, 2),
}


def grid_for(kind: str) -> GridSpec:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown layout kind {kind!r}; known: {', '.join(LAYOUT_KINDS)}") from None


# --- stream choice (Nx RADASS-like) -------------------------------------------------------

#: Tiles at least this many device pixels get the main stream (a 1280x720 picture shown at
#: about 75 %). On a 1080p screen: 1x1, 1+5's and 1+7's big cells -> main; 2x2 and smaller -> sub.
DEFAULT_MAIN_THRESHOLD_PX = 700_000
DEFAULT_HYSTERESIS = 0.2


def choose_profile(current: StreamProfileName | None, tile_w: int, tile_h: int, *,
                   maximized: bool, threshold_px: int = DEFAULT_MAIN_THRESHOLD_PX,
                   hysteresis: float = DEFAULT_HYSTERESIS) -> StreamProfileName:
    """"main" or "sub" for a tile of ``tile_w`` x ``tile_h`` device pixels.

    A tile switches up only above ``threshold*(1+h)`` and down only below ``threshold*(1-h)``,
    so one hovering at the threshold (a splitter drag, a 1 px resize) does not flap.
    """
    if not 0 <= hysteresis < 1:
        raise ValueError(f"hysteresis must be in [0, 1), got {hysteresis}")
    if maximized:
        return "main"
    area = max(0, tile_w) * max(0, tile_h)
    if current == "main":
        return "main" if area >= threshold_px * (1 - hysteresis) else "sub"
    return "main" if area >= threshold_px * (1 + hysteresis) else "sub"


# --- the wall model -----------------------------------------------------------------------

class WallEvents(SignalGroup):
    layout = Signal(object)  # GridSpec: geometry changed (cells may have been added/removed)
    camera = Signal(int, object)  # cell index, camera id or None
    selected = Signal(object)  # cell index or None
    maximized = Signal(object)  # cell index or None


class WallModel:
    """One screen's wall: a grid, a camera id per cell, the selected and maximized cell."""

    def __init__(self, kind: str = "2x2", cameras: Sequence[str | None] = ()) -> None:
        self.events = WallEvents()
        self._grid = grid_for(kind)
        self._cameras: list[str | None] = self._fit(cameras, len(self._grid))
        self._selected: int | None = None
        self._maximized: int | None = None

    @staticmethod
    def _fit(cameras: Sequence[str | None], n: int) -> list[str | None]:
        return [*cameras[:n], *([None] * (n - len(cameras)))]

    # read side
    @property
    def kind(self) -> str:
        return self._grid.kind

    @property
    def grid(self) -> GridSpec:
        return self._grid

    @property
    def cameras(self) -> tuple[str | None, ...]:
        return tuple(self._cameras)

    @property
    def selected(self) -> int | None:
        return self._selected

    @property
    def maximized(self) -> int | None:
        return self._maximized

    def __len__(self) -> int:
        return len(self._cameras)

    # operations
    def set_kind(self, kind: str) -> None:
        """Switch layout kind; cameras keep their positions, extras beyond the new count drop."""
        self._set_grid(grid_for(kind))

    def set_grid(self, rows: int, cols: int, cells: Sequence[CellGeom]) -> None:
        """A custom grid with arbitrary spans."""
        self._set_grid(validate_grid(CUSTOM_KIND, rows, cols, cells))

    def _set_grid(self, grid: GridSpec) -> None:
        if grid == self._grid:
            return
        self._grid = grid
        self._cameras = self._fit(self._cameras, len(grid))
        self.events.layout.emit(grid)
        if self._maximized is not None:
            self.restore()
        if self._selected is not None and self._selected >= len(grid):
            self.select(None)

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self._cameras):
            raise IndexError(f"cell {index} not in layout {self.kind!r} ({len(self)} cells)")

    def assign(self, index: int, camera_id: str | None) -> None:
        self._check(index)
        if self._cameras[index] != camera_id:
            self._cameras[index] = camera_id
            self.events.camera.emit(index, camera_id)

    def place(self, camera_id: str) -> int:
        """Put a camera where the operator most likely wants it: the selected cell, else the
        first empty one, else cell 0. Returns the index used."""
        if self._selected is not None:
            index = self._selected
        else:
            index = next((i for i, c in enumerate(self._cameras) if c is None), 0)
        self.assign(index, camera_id)
        return index

    def clear(self) -> None:
        for i in range(len(self._cameras)):
            self.assign(i, None)

    def select(self, index: int | None) -> None:
        if index is not None:
            self._check(index)
        if index != self._selected:
            self._selected = index
            self.events.selected.emit(index)

    def maximize(self, index: int) -> None:
        self._check(index)
        if index != self._maximized:
            self._maximized = index
            self.events.maximized.emit(index)

    def restore(self) -> None:
        if self._maximized is not None:
            self._maximized = None
            self.events.maximized.emit(None)

    def toggle_maximized(self, index: int) -> None:
        if self._maximized == index:
            self.restore()
        else:
            self.maximize(index)

    # wire format
    def to_layout_in(self, *, station_id: str, name: str, screen: int = 0,
                     active: bool = True) -> LayoutIn:
        g = self._grid
        return LayoutIn(
            station_id=station_id, screen=screen, name=name, kind=g.kind, rows=g.rows,
            cols=g.cols, active=active,
            cells=[Cell(row=c.row, col=c.col, row_span=c.row_span, col_span=c.col_span,
                        camera_id=cam) for c, cam in zip(g.cells, self._cameras, strict=True)],
        )

    def load(self, layout: LayoutIn | Layout) -> None:
        """Take a layout from the wire. A known kind uses its own geometry (cells are matched
        by position); anything else is validated as a custom grid."""
        by_pos = {(c.row, c.col): c.camera_id for c in layout.cells}
        if layout.kind in _KINDS:
            grid = _KINDS[layout.kind]
        else:
            grid = validate_grid(
                layout.kind, layout.rows, layout.cols,
                [CellGeom(c.row, c.col, c.row_span, c.col_span) for c in layout.cells])
        self.restore()
        self.select(None)
        self._set_grid(grid)
        for i, cell in enumerate(grid.cells):
            self.assign(i, by_pos.get((cell.row, cell.col)))

    @classmethod
    def from_layout(cls, layout: LayoutIn | Layout) -> WallModel:
        model = cls("1x1")
        model.load(layout)
        return model
