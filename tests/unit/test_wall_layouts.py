"""console.wall: layout geometry, the wall model, layout wire round trip."""
from __future__ import annotations

import pytest

from console.model import Cell, LayoutIn
from console.wall import LAYOUT_KINDS, CellGeom, WallModel, grid_for, validate_grid

EXPECTED = {  # kind -> (rows, cols, cells, big cell span)
    "1x1": (1, 1, 1, 1), "2x2": (2, 2, 4, 1), "3x3": (3, 3, 9, 1), "4x4": (4, 4, 16, 1),
    "5x5": (5, 5, 25, 1), "8x8": (8, 8, 64, 1), "1+5": (3, 3, 6, 2), "1+7": (4, 4, 8, 3),
    "1+12": (4, 4, 13, 2),
}


@pytest.mark.parametrize("kind", LAYOUT_KINDS)
def test_every_kind_tiles_its_grid_exactly(kind: str) -> None:
    rows, cols, n, big = EXPECTED[kind]
    g = grid_for(kind)
    assert (g.rows, g.cols, len(g)) == (rows, cols, n)
    assert (g.cells[0].row_span, g.cells[0].col_span) == (big, big)
    covered = [rc for c in g.cells for rc in c.covers()]
    assert sorted(covered) == sorted({(r, c) for r in range(rows) for c in range(cols)})
    assert len(covered) == rows * cols  # no overlap
    validate_grid(kind, g.rows, g.cols, g.cells)


def test_kind_list_is_the_nine_in_order() -> None:
    assert LAYOUT_KINDS == ("1x1", "2x2", "3x3", "4x4", "5x5", "8x8", "1+5", "1+7", "1+12")


def test_unknown_kind_and_bad_spans_name_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown layout kind '7x7'"):
        grid_for("7x7")
    with pytest.raises(ValueError, match="cell 1.*overlaps"):
        validate_grid("x", 2, 2, [CellGeom(0, 0, 2, 1), CellGeom(1, 0)])
    with pytest.raises(ValueError, match="cell 0.*outside"):
        validate_grid("x", 2, 2, [CellGeom(1, 1, 2, 1)])


def test_set_kind_keeps_cameras_by_position() -> None:
    m = WallModel("2x2", ["a", None, "c", "d"])
    layouts = []
    m.events.layout.connect(layouts.append)
    m.set_kind("3x3")
    assert m.cameras == ("a", None, "c", "d", None, None, None, None, None)
    m.set_kind("1+5")
    assert m.cameras == ("a", None, "c", "d", None, None)
    m.set_kind("1x1")
    assert m.cameras == ("a",)
    assert [g.kind for g in layouts] == ["3x3", "1+5", "1x1"]
    m.set_kind("1x1")  # no-op emits nothing
    assert len(layouts) == 3


def test_assign_place_select_maximize_events() -> None:
    m = WallModel("2x2")
    seen: list[tuple[str, object]] = []
    m.events.camera.connect(lambda i, c: seen.append(("camera", (i, c))))
    m.events.selected.connect(lambda i: seen.append(("selected", i)))
    m.events.maximized.connect(lambda i: seen.append(("maximized", i)))
    assert m.place("a") == 0 and m.place("b") == 1
    m.select(3)
    assert m.place("c") == 3
    m.toggle_maximized(3)
    m.toggle_maximized(3)
    m.maximize(1)
    m.set_kind("3x3")  # a layout change restores
    m.clear()
    assert m.cameras == (None,) * 9
    assert seen == [("camera", (0, "a")), ("camera", (1, "b")), ("selected", 3),
                    ("camera", (3, "c")), ("maximized", 3), ("maximized", None),
                    ("maximized", 1), ("maximized", None), ("camera", (0, None)),
                    ("camera", (1, None)), ("camera", (3, None))]
    with pytest.raises(IndexError, match="cell 9 not in layout '3x3'"):
        m.assign(9, "x")


def test_select_cleared_when_layout_shrinks() -> None:
    m = WallModel("3x3")
    m.select(8)
    m.set_kind("2x2")
    assert m.selected is None


def test_layout_round_trip_known_kind() -> None:
    m = WallModel("1+5", ["big", "s1", None, "s3"])
    li = m.to_layout_in(station_id="st1", name="day", screen=1)
    assert (li.kind, li.rows, li.cols, li.screen) == ("1+5", 3, 3, 1)
    assert li.cells[0] == Cell(row=0, col=0, row_span=2, col_span=2, camera_id="big")
    back = WallModel.from_layout(LayoutIn.model_validate(li.model_dump()))
    assert back.kind == "1+5" and back.cameras == m.cameras


def test_layout_custom_spans() -> None:
    li = LayoutIn(station_id="s", name="n", kind="wide", rows=2, cols=3, cells=[
        Cell(row=0, col=0, col_span=3, camera_id="pano"), Cell(row=1, col=0),
        Cell(row=1, col=1, col_span=2, camera_id="x")])
    m = WallModel.from_layout(li)
    assert (m.grid.rows, m.grid.cols, len(m)) == (2, 3, 3)
    assert m.cameras == ("pano", None, "x")
    assert m.to_layout_in(station_id="s", name="n").cells == li.cells
    bad = li.model_copy(update={"cells": [Cell(row=0, col=0, col_span=4)]})
    with pytest.raises(ValueError, match="layout 'wide' cell 0"):
        WallModel.from_layout(bad)
