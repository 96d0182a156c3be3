"""A live ALPR read feed at real Los Angeles sites, with timing taken from a real read log.

Sites: the demo camera sites (``resources/demo/cameras.json``: fixed readers at the
camera's point) and the 21 LAPD community police stations (``resources/geo``: mobile
units that read within ~1.5 km of their station). Timing: ``resources/demo/
alpr_timing.json``, derived from one week of Seattle PD reads (see
``resources/demo/build_alpr_timing.py``): per-unit gaps are drawn from that log's
empirical gap distribution and scaled by its hour-of-day profile (at the LA local hour);
units pause as often as the real ones; plates come back as often as they did (the same
unit within minutes, or any unit later).

Plates are synthetic and can never be real: California's 7-character sequential series
began at 1AAA000 (1980), so every simulated plate starts with the digit 0 (``0ABC123``
passenger, ``0A12345`` commercial shape). The demo hotlist holds such plates; the feed
reads one of them about every ``hit_interval_s`` (60 s) at a random site, so a hit
arrives about once a minute.

``ReadGenerator`` is pure (seeded, driven by the time you give it); ``AlprFeed`` runs it
on a thread and POSTs batches to ``/api/v1/alpr/reads`` (no Qt).
"""
from __future__ import annotations

import csv
import heapq
import io
import json
import logging
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from console.server.sim.feed import PostingFeed

log = logging.getLogger("rtcc.sim.alpr")

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
TIMING_JSON = RESOURCES / "demo" / "alpr_timing.json"
CAMERAS_JSON = RESOURCES / "demo" / "cameras.json"
STATIONS_CSV = RESOURCES / "geo" / "lapd_police_stations.csv"
LA_TZ = ZoneInfo("America/Los_Angeles")
DEMO_HOTLIST_NAME = "Demo hotlist (synthetic plates)"
FAKE_PLATE_PATTERN = r"^0[A-Z]{3}[0-9]{3}$|^0[A-Z][0-9]{5}$"
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # CA sequential plates skip I, O and Q
_MOBILE_RADIUS_M = 1500.0
_POOL = 5000  # plates remembered for "seen before" re-reads


@dataclass(frozen=True)
class AlprSite:
    device_id: str
    name: str
    lat: float
    lon: float
    mobile: bool  # a patrol-car unit around this point, not a fixed reader


def load_sites(cameras_json: Path = CAMERAS_JSON,
               stations_csv: Path = STATIONS_CSV) -> list[AlprSite]:
    cams = json.loads(cameras_json.read_text(encoding="utf-8"))["cameras"]
    sites = [AlprSite(f"alpr-{c['id']}", c["name"], c["lat"], c["lon"], False) for c in cams]
    with stations_csv.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            sites.append(AlprSite(f"alpr-lapd-{int(row['PREC']):02d}-mobile",
                                  f"{row['DIVISION'].title()} patrol unit",
                                  round(float(row["Y"]), 6), round(float(row["X"]), 6), True))
    return sites


@dataclass(frozen=True)
class ReadTiming:
    gap_quantiles_s: tuple[float, ...]
    session_gap_s: float
    idle_gap_fraction: float
    hourly_profile: tuple[float, ...]
    repeat_window_s: float
    repeat_read_ratio: float
    distinct_plate_ratio: float

    @classmethod
    def load(cls, path: Path = TIMING_JSON) -> ReadTiming:
        d = json.loads(path.read_text(encoding="utf-8"))
        try:
            timing = cls(tuple(d["gap_quantiles_s"]), float(d["session_gap_s"]),
                         float(d["idle_gap_fraction"]), tuple(d["hourly_profile"]),
                         float(d["repeat_window_s"]), float(d["repeat_read_ratio"]),
                         float(d["distinct_plate_ratio"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: bad ALPR timing file: {exc!r}") from None
        if len(timing.hourly_profile) != 24 or len(timing.gap_quantiles_s) < 2:
            raise ValueError(f"{path}: need 24 hourly factors and >= 2 gap quantiles")
        return timing

    def gap_s(self, rng: random.Random, hour: int) -> float:
        """Seconds to a unit's next read: the log's gap distribution (1-s resolution,
        smoothed), faster in busy hours; sometimes a pause longer than a session gap."""
        if rng.random() < self.idle_gap_fraction:
            return self.session_gap_s * (1 + 2 * rng.random())
        q = self.gap_quantiles_s
        pos = rng.random() * (len(q) - 1)
        i = int(pos)
        gap = q[i] + (q[min(i + 1, len(q) - 1)] - q[i]) * (pos - i) + rng.random()
        return gap / max(self.hourly_profile[hour], 0.05)


def fake_plate(rng: random.Random) -> str:
    """A California-shaped plate that was never issued (leading 0)."""
    if rng.random() < 0.85:
        return "0" + "".join(rng.choices(_LETTERS, k=3)) + f"{rng.randrange(1000):03d}"
    return "0" + rng.choice(_LETTERS) + f"{rng.randrange(100000):05d}"


def demo_hotlist_plates(count: int = 40, seed: int = 20251126) -> list[str]:
    rng = random.Random(seed)
    plates: list[str] = []
    while len(plates) < count:
        p = fake_plate(rng)
        if p not in plates:
            plates.append(p)
    return plates


_DEMO_REASONS = (("V", "Stolen vehicle (demo)"), ("F", "Felony vehicle: armed robbery (demo)"),
                 ("P", "Stolen plate (demo)"), ("W", "Wanted person, registered owner (demo)"),
                 ("M", "Missing person (demo)"))
_DEMO_VEHICLES = (("2016", "TOYT", "CAM", "SIL"), ("2019", "HOND", "CIV", "BLK"),
                  ("2012", "FORD", "F15", "WHI"), ("2021", "TSLA", "MD3", "RED"),
                  ("2008", "NISS", "ALT", "BLU"))


def demo_hotlist_csv(plates: list[str]) -> str:
    """The demo hotlist in the neutral CSV format (``console.importers.hotlists``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # quotes the reasons that hold commas
    writer.writerow(["plate", "state", "list_type", "reason", "nic", "ori", "entered_date",
                     "vehicle_year", "make", "model", "color"])
    for i, p in enumerate(plates):
        letter, reason = _DEMO_REASONS[i % len(_DEMO_REASONS)]
        year, make, model, color = _DEMO_VEHICLES[i % len(_DEMO_VEHICLES)]
        writer.writerow([p, "CA", letter, reason, f"{letter}{900000000 + i:09d}", "CA0194200",
                         f"2025-11-{1 + i % 25:02d}", year, make, model, color])
    return out.getvalue()


def install_demo_hotlist(server_url: str, token: str, plates: list[str] | None = None,
                         timeout_s: float = 10.0) -> int:
    """Create (or refresh) the demo hotlist over the API; returns its id. Needs a role
    with hotlists.write."""
    plates = plates or demo_hotlist_plates()
    base = server_url.rstrip("/") + "/api/v1/alpr/hotlists"
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {token}"
        r = s.get(base, timeout=timeout_s)
        r.raise_for_status()
        found = [h["id"] for h in r.json() if h["name"] == DEMO_HOTLIST_NAME]
        if found:
            hotlist_id = found[0]
        else:
            r = s.post(base, json={"name": DEMO_HOTLIST_NAME, "source_format": "csv",
                                   "priority": 60, "description": "synthetic plates for the "
                                   "demo; none can be a real plate"}, timeout=timeout_s)
            r.raise_for_status()
            hotlist_id = r.json()["id"]
        r = s.post(f"{base}/{hotlist_id}/import", params={"mode": "replace",
                                                          "source": "demo_hotlist.csv"},
                   data=demo_hotlist_csv(plates).encode(), timeout=timeout_s,
                   headers={"Content-Type": "text/csv"})
        r.raise_for_status()
    return hotlist_id


def _offset(lat: float, lon: float, rng: random.Random, radius_m: float) -> tuple[float, float]:
    r = radius_m * math.sqrt(rng.random())
    a = rng.random() * 2 * math.pi
    dlat = r * math.cos(a) / 111_320
    dlon = r * math.sin(a) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


@dataclass
class _Unit:
    site: AlprSite
    recent: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=64))


class ReadGenerator:
    """Reads for all sites up to a given time. Times are seconds on any monotonic clock;
    ``wall`` gives the wall-clock (UTC) time of a clock value (for read_at and the hour)."""

    def __init__(self, sites: list[AlprSite], timing: ReadTiming, hotlist_plates: list[str],
                 *, hit_interval_s: float = 60.0, speed: float = 1.0, seed: int | None = None,
                 start: float = 0.0) -> None:
        if not sites:
            raise ValueError("no ALPR sites")
        if speed <= 0 or hit_interval_s <= 0:
            raise ValueError("speed and hit_interval_s must be > 0")
        self.timing = timing
        self.hotlist = list(hotlist_plates)
        self.hit_interval_s = hit_interval_s
        self.speed = speed
        self.rng = random.Random(seed)
        self.units = [_Unit(s) for s in sites]
        self.pool: deque[str] = deque(maxlen=_POOL)
        self._heap: list[tuple[float, int]] = []
        for i in range(len(self.units)):
            heapq.heappush(self._heap, (start + self.rng.random() * 10 / speed, i))
        self._next_hit = start + self._hit_gap()
        self.hotlist_reads = 0

    def _hit_gap(self) -> float:
        return self.hit_interval_s * (0.75 + 0.5 * self.rng.random())

    def _plate(self, unit: _Unit, t: float) -> str:
        t_cfg, r = self.timing, self.rng.random()
        recent = [p for when, p in unit.recent if t - when <= t_cfg.repeat_window_s / self.speed]
        if r < t_cfg.repeat_read_ratio and recent:
            return self.rng.choice(recent)
        if r < 1 - t_cfg.distinct_plate_ratio and self.pool:
            return self.rng.choice(self.pool)
        while True:
            p = fake_plate(self.rng)
            if p not in self.hotlist:
                return p

    def _read(self, unit: _Unit, plate: str, when: datetime) -> dict[str, Any]:
        site = unit.site
        lat, lon = _offset(site.lat, site.lon, self.rng, _MOBILE_RADIUS_M) if site.mobile \
            else (site.lat, site.lon)
        return {"device_id": site.device_id, "plate": plate,
                "state": "CA" if self.rng.random() < 0.97 else self.rng.choice(("NV", "AZ")),
                "confidence": round(0.75 + 0.24 * self.rng.random(), 3),
                "read_at": when.isoformat(), "lat": lat, "lon": lon}

    def reads_until(self, t: float, wall_of: Any) -> list[dict[str, Any]]:
        """Every read due at or before ``t``, in time order; ``wall_of(t) -> datetime``."""
        out: list[tuple[float, dict[str, Any]]] = []
        while self._heap and self._heap[0][0] <= t:
            when, i = heapq.heappop(self._heap)
            unit = self.units[i]
            wall = wall_of(when)
            plate = self._plate(unit, when)
            unit.recent.append((when, plate))
            self.pool.append(plate)
            out.append((when, self._read(unit, plate, wall)))
            hour = wall.astimezone(LA_TZ).hour
            heapq.heappush(self._heap, (when + self.timing.gap_s(self.rng, hour) / self.speed, i))
        while self.hotlist and self._next_hit <= t:
            unit = self.rng.choice(self.units)
            read = self._read(unit, self.rng.choice(self.hotlist), wall_of(self._next_hit))
            read["state"] = "CA"
            out.append((self._next_hit, read))
            self.hotlist_reads += 1
            self._next_hit += self._hit_gap()
        out.sort(key=lambda x: x[0])
        return [r for _, r in out]


class AlprFeed(PostingFeed):
    """Posts the generated reads to a server every ``flush_s`` on a daemon thread.

    ``start(server_url, token)`` (a token with ``alpr.ingest``), ``stop()``. ``speed``
    multiplies the read rate (not the hit interval). Failed posts are logged and the
    batch dropped (a feed is live data; the next batch goes on)."""

    path = "/api/v1/alpr/reads"
    label = "ALPR feed"
    logger = log

    def __init__(self, *, sites: list[AlprSite] | None = None, timing: ReadTiming | None = None,
                 hotlist_plates: list[str] | None = None, hit_interval_s: float = 60.0,
                 speed: float = 1.0, flush_s: float = 1.0, seed: int | None = None,
                 timeout_s: float = 10.0) -> None:
        self._make = lambda start: ReadGenerator(
            sites or load_sites(), timing or ReadTiming.load(),
            demo_hotlist_plates() if hotlist_plates is None else hotlist_plates,
            hit_interval_s=hit_interval_s, speed=speed, seed=seed, start=start)
        super().__init__(timeout_s)
        self.flush_s = flush_s
        self.posted = 0
        self.hotlist_reads = 0
        self.hit_ids: list[int] = []

    def _run(self, session: requests.Session, url: str) -> None:
        t0, wall0 = time.monotonic(), datetime.now(UTC)
        gen = self._make(t0)

        def wall_of(t: float) -> datetime:
            return datetime.fromtimestamp(wall0.timestamp() + (t - t0), UTC)

        while not self._stop.wait(self.flush_s):
            reads = gen.reads_until(time.monotonic(), wall_of)
            for i in range(0, len(reads), 1000):
                chunk = reads[i:i + 1000]
                reply = self._post(session, url, {"reads": chunk}, f"{len(chunk)} reads")
                if reply is not None:
                    self.posted += len(chunk)
                    self.hit_ids.extend(reply.get("hit_ids", []))
            self.hotlist_reads = gen.hotlist_reads
        log.info("ALPR feed stopped: %d reads posted, %d hits, %d errors", self.posted,
                 len(self.hit_ids), self.errors)


__all__ = ["DEMO_HOTLIST_NAME", "FAKE_PLATE_PATTERN", "AlprFeed", "AlprSite", "ReadGenerator",
           "ReadTiming", "demo_hotlist_csv", "demo_hotlist_plates", "fake_plate",
           "install_demo_hotlist", "load_sites"]
