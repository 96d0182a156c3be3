"""Scripted alerts for the demo world: realistic watch-floor alerts at real LA places.

Places: the demo camera sites (``resources/demo/cameras.json``; the alert names that
camera, so the wall can show it) and the 21 LAPD community police stations
(``resources/geo/lapd_police_stations.csv``; the alert falls a few hundred metres from the
station, in that station's division, naming the demo cameras within 2 km if any).
Kinds and priorities follow common RTCC alert sources (gunshot detection, in-progress
calls, stolen-vehicle sightings, alarms, collisions, at-risk missing persons).

``AlertScript`` is pure (seeded); ``AlertFeed`` posts one alert every ``interval_s``
(±50 %) to ``POST /api/v1/alerts`` on a daemon thread, with a token that has
``alerts.create`` (supervisor, trainer or admin). No Qt.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from console.geo import DivisionArea, division_of, haversine_m, load_divisions
from console.server.sim.feed import PostingFeed

log = logging.getLogger("rtcc.sim.alerts")

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
CAMERAS_JSON = RESOURCES / "demo" / "cameras.json"
STATIONS_CSV = RESOURCES / "geo" / "lapd_police_stations.csv"
DIVISIONS_GEOJSON = RESOURCES / "geo" / "lapd_divisions.geojson"
_NEAR_M = 2000.0


@dataclass(frozen=True)
class AlertPlace:
    name: str
    lat: float
    lon: float
    division: int | None
    camera_ids: tuple[str, ...]
    jitter_m: float  # how far from the point the incident may be


# (type, priority, title, text); {place} is the place name, {n} a small number
TEMPLATES: tuple[tuple[str, int, str, str], ...] = (
    ("shots-fired", 1, "Gunshot detection: shots fired near {place}",
     "{n} rounds detected by acoustic sensors; no calls yet."),
    ("robbery-in-progress", 1, "211 in progress near {place}",
     "Caller reports an armed robbery at a business; {n} suspects, left on foot."),
    ("officer-needs-help", 1, "Officer needs help near {place}",
     "Unit requests backup; foot pursuit."),
    ("stolen-vehicle", 2, "Stolen vehicle sighted near {place}",
     "Patrol reports a vehicle matching a stolen report; {n} occupants."),
    ("missing-person", 2, "At-risk missing person last seen near {place}",
     "Elderly adult with dementia, last seen {n}0 minutes ago."),
    ("burglary-alarm", 3, "Commercial burglary alarm near {place}",
     "Alarm company reports a rear-door zone; keyholder en route."),
    ("traffic-collision", 3, "Injury collision near {place}",
     "{n} vehicles involved; lanes blocked."),
    ("crowd", 4, "Large gathering near {place}",
     "About {n}00 people; monitor for traffic impact."),
    ("vandalism", 5, "Vandalism in progress near {place}",
     "Graffiti on a freeway sign structure."),
)


def load_places(cameras_json: Path = CAMERAS_JSON,
                stations_csv: Path = STATIONS_CSV) -> list[AlertPlace]:
    cams = json.loads(cameras_json.read_text(encoding="utf-8"))["cameras"]
    places = [AlertPlace(c["name"], c["lat"], c["lon"], c.get("division"), (c["id"],), 150.0)
              for c in cams]
    with stations_csv.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lat, lon = float(row["Y"]), float(row["X"])
            near = tuple(c["id"] for c in cams
                         if haversine_m(lat, lon, c["lat"], c["lon"]) <= _NEAR_M)
            places.append(AlertPlace(f"{row['LOCATION'].title()} ({row['DIVISION'].title()})",
                                     round(lat, 6), round(lon, 6), int(row["PREC"]), near, 600.0))
    return places


class AlertScript:
    """Seeded sequence of ``AlertIn`` bodies; the division is the LAPD division that
    contains the (jittered) point, else the place's own."""

    def __init__(self, places: list[AlertPlace] | None = None, seed: int | None = None,
                 divisions: list[DivisionArea] | None = None) -> None:
        self.places = places if places is not None else load_places()
        self.divisions = divisions if divisions is not None else load_divisions(
            DIVISIONS_GEOJSON)
        if not self.places:
            raise ValueError("AlertScript: no places to put alerts at")
        self.rng = random.Random(seed)

    def next(self) -> dict[str, Any]:
        kind, priority, title, text = self.rng.choice(TEMPLATES)
        place = self.rng.choice(self.places)
        r = place.jitter_m * math.sqrt(self.rng.random())
        a = self.rng.uniform(0, 2 * math.pi)
        lat = place.lat + r * math.cos(a) / 111_320.0
        lon = place.lon + r * math.sin(a) / (111_320.0 * math.cos(math.radians(place.lat)))
        n = self.rng.randint(2, 6)
        found = division_of(lat, lon, self.divisions)
        return {"type": kind, "priority": priority,
                "title": title.format(place=place.name, n=n)[:200],
                "text": text.format(place=place.name, n=n),
                "division": found.area if found else place.division,
                "lat": round(lat, 6), "lon": round(lon, 6),
                "camera_ids": list(place.camera_ids)}


class AlertFeed(PostingFeed):
    """Posts scripted alerts on a daemon thread: the first after ``first_delay_s``, then
    one every ``interval_s`` ± 50 %. Failed posts are logged and the alert dropped."""

    path = "/api/v1/alerts"
    label = "alert feed"
    logger = log

    def __init__(self, *, interval_s: float = 90.0, first_delay_s: float = 5.0,
                 seed: int | None = None, places: list[AlertPlace] | None = None,
                 timeout_s: float = 10.0) -> None:
        if interval_s <= 0 or first_delay_s < 0:
            raise ValueError("AlertFeed: interval_s must be > 0 and first_delay_s >= 0")
        super().__init__(timeout_s)
        self.script = AlertScript(places, seed)
        self.interval_s = interval_s
        self.first_delay_s = first_delay_s
        self.alert_ids: list[int] = []

    def _run(self, session: requests.Session, url: str) -> None:
        delay = self.first_delay_s
        while not self._stop.wait(delay):
            body = self.script.next()
            reply = self._post(session, url, body, repr(body["type"]))
            if reply is not None:
                self.alert_ids.append(reply["id"])
                log.info("alert feed: alert %d (%s, P%d)", self.alert_ids[-1], body["type"],
                         body["priority"])
            delay = self.interval_s * self.script.rng.uniform(0.5, 1.5)
        log.info("alert feed stopped: %d alerts posted, %d errors", len(self.alert_ids),
                 self.errors)


__all__ = ["TEMPLATES", "AlertFeed", "AlertPlace", "AlertScript", "load_places"]
