"""Pure geography helpers (no Qt): distances and LAPD division lookup.

Coordinates are WGS84 degrees; GeoJSON positions are ``[lon, lat]``. Point-in-polygon
uses the even-odd rule on each polygon's outer ring minus its holes; precise enough for
city-scale division boundaries (the plane approximation errs by far less than the
boundaries' own digitising accuracy).
"""
from __future__ import annotations

import json
import math
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from console.model import Division

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius

Ring = Sequence[Sequence[float]]
Polygon = Sequence[Ring]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def point_in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd ray casting; the ring may or may not repeat its first point."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_polygon(lon: float, lat: float, polygon: Polygon) -> bool:
    """GeoJSON Polygon coordinates: outer ring, then holes."""
    if not polygon or not point_in_ring(lon, lat, polygon[0]):
        return False
    return not any(point_in_ring(lon, lat, hole) for hole in polygon[1:])


def point_in_multipolygon(lon: float, lat: float, polygons: Iterable[Polygon]) -> bool:
    return any(point_in_polygon(lon, lat, p) for p in polygons)


def point_in_geometry(lon: float, lat: float, geometry: dict) -> bool:
    """A GeoJSON Polygon or MultiPolygon geometry object."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return point_in_polygon(lon, lat, coords)
    if kind == "MultiPolygon":
        return point_in_multipolygon(lon, lat, coords)
    raise ValueError(f"geometry type {kind!r}: expected Polygon or MultiPolygon")


@dataclass(frozen=True)
class DivisionArea:
    """A division with its boundary (MultiPolygon coordinates) and bounding box."""

    division: Division
    polygons: tuple[Polygon, ...]
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

    def contains(self, lat: float, lon: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        return point_in_multipolygon(lon, lat, self.polygons)


def _bbox(polygons: Sequence[Polygon]) -> tuple[float, float, float, float]:
    xs = [p[0] for poly in polygons for p in poly[0]]
    ys = [p[1] for poly in polygons for p in poly[0]]
    return min(xs), min(ys), max(xs), max(ys)


def load_divisions(path: Path | str) -> list[DivisionArea]:
    """LAPD divisions from a GeoJSON FeatureCollection with ``PREC`` (Area 1-21) and
    ``APREC`` (upper-case name), as in the LA GeoHub "LAPD Divisions" layer."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    out: list[DivisionArea] = []
    for i, feature in enumerate(data.get("features", [])):
        where = f"{path}: features[{i}]"
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        try:
            area = int(props["PREC"])
            name = string.capwords(str(props["APREC"]).strip())
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: need properties PREC (int) and APREC: {exc}") from None
        if geometry.get("type") == "Polygon":
            polygons = (geometry["coordinates"],)
        elif geometry.get("type") == "MultiPolygon":
            polygons = tuple(geometry["coordinates"])
        else:
            raise ValueError(f"{where}: geometry type {geometry.get('type')!r}: "
                             "expected Polygon or MultiPolygon")
        out.append(DivisionArea(Division(area=area, name=name), polygons, _bbox(polygons)))
    if not out:
        raise ValueError(f"{path}: no features")
    return out


def division_of(lat: float, lon: float, divisions: Iterable[DivisionArea]) -> Division | None:
    """The division containing the point, or None outside all of them."""
    for d in divisions:
        if d.contains(lat, lon):
            return d.division
    return None
