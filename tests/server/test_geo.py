"""console.geo against the real LAPD boundaries shipped in resources/geo."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from console.geo import (DivisionArea, division_of, haversine_m, load_divisions, point_in_geometry,
                         point_in_polygon)
from console.model import Division

GEO = Path(__file__).resolve().parents[2] / "resources" / "geo"


@pytest.fixture(scope="module")
def divisions() -> list[DivisionArea]:
    return load_divisions(GEO / "lapd_divisions.geojson")


def test_haversine_known_distances() -> None:
    assert haversine_m(34.0, -118.0, 34.0, -118.0) == 0
    # one degree of latitude is ~111.2 km on the mean sphere
    assert haversine_m(34.0, -118.0, 35.0, -118.0) == pytest.approx(111_195, rel=1e-3)
    # LAX to JFK, the textbook great-circle example: ~3,974 km
    assert haversine_m(33.9425, -118.4081, 40.6398, -73.7789) == pytest.approx(3_974_000, rel=5e-3)


def test_all_21_divisions_load_with_names(divisions: list[DivisionArea]) -> None:
    assert sorted(d.division.area for d in divisions) == list(range(1, 22))
    names = {d.division.area: d.division.name for d in divisions}
    assert names[12] == "77th Street" and names[8] == "West Los Angeles"


def test_every_lapd_station_is_in_its_own_division(divisions: list[DivisionArea]) -> None:
    with (GEO / "lapd_police_stations.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 21
    for row in rows:
        got = division_of(float(row["Y"]), float(row["X"]), divisions)
        assert got is not None and got.area == int(row["PREC"]), row


def test_points_outside_the_city(divisions: list[DivisionArea]) -> None:
    assert division_of(34.1478, -118.1445, divisions) is None  # Pasadena City Hall
    assert division_of(33.7701, -118.1937, divisions) is None  # Long Beach
    assert division_of(0.0, 0.0, divisions) is None


def test_polygon_hole_and_geometry_types() -> None:
    outer = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    assert point_in_polygon(1, 1, [outer, hole])
    assert not point_in_polygon(5, 5, [outer, hole])
    assert not point_in_polygon(11, 5, [outer])
    assert point_in_geometry(1, 1, {"type": "MultiPolygon", "coordinates": [[outer]]})
    with pytest.raises(ValueError, match="LineString"):
        point_in_geometry(1, 1, {"type": "LineString", "coordinates": outer})


def test_load_divisions_names_the_bad_feature(tmp_path: Path) -> None:
    good = {"type": "Feature", "properties": {"PREC": 1, "APREC": "CENTRAL"},
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}
    bad = {"type": "Feature", "properties": {"APREC": "NO NUMBER"}, "geometry": good["geometry"]}
    path = tmp_path / "d.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, bad]}))
    with pytest.raises(ValueError, match=r"d\.geojson: features\[1\].*PREC"):
        load_divisions(path)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good]}))
    assert load_divisions(path)[0].division == Division(area=1, name="Central")


def test_demo_cameras_lie_in_their_divisions(divisions: list[DivisionArea]) -> None:
    cams = json.loads((GEO.parent / "demo" / "cameras.json").read_text())["cameras"]
    assert len(cams) >= 16 and len({c["division"] for c in cams}) >= 8
    assert len({c["color"] for c in cams}) == len(cams)
    for c in cams:
        assert division_of(c["lat"], c["lon"], divisions).area == c["division"], c["id"]
