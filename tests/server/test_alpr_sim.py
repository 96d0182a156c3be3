"""The ALPR simulator: timing derived from the Seattle log (reproducible), synthetic plates,
about one hotlist read a minute, and the live feed against a real server."""
from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.geo import haversine_m
from console.model import Role
from console.server.sim.alpr import (
    DEMO_HOTLIST_NAME,
    FAKE_PLATE_PATTERN,
    TIMING_JSON,
    AlprFeed,
    ReadGenerator,
    ReadTiming,
    demo_hotlist_plates,
    install_demo_hotlist,
    load_sites,
)
from tests.server.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
SEATTLE = ROOT.parent / "shared" / "data" / "alpr_reads_seattle_spd_2021-10-01_to_10-08.csv"
T0 = datetime(2025, 11, 26, 21, 0, tzinfo=UTC)  # 13:00 in Los Angeles, a busy hour


def _wall(t: float) -> datetime:
    return T0 + timedelta(seconds=t)


@pytest.mark.skipif(not SEATTLE.exists(), reason=f"research data not present: {SEATTLE}")
def test_committed_timing_is_what_the_script_derives() -> None:
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "build_alpr_timing", ROOT / "resources" / "demo" / "build_alpr_timing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert module.derive(SEATTLE) == json.loads(TIMING_JSON.read_text())


def test_sites_are_the_demo_cameras_and_the_lapd_stations() -> None:
    sites = load_sites()
    assert len(sites) == 16 + 21 and len({s.device_id for s in sites}) == len(sites)
    assert sum(s.mobile for s in sites) == 21
    assert all(33.7 < s.lat < 34.35 and -118.7 < s.lon < -118.1 for s in sites)


def test_an_hour_of_reads_has_the_logs_shape() -> None:
    timing = ReadTiming.load()
    sites = load_sites()
    hotlist = demo_hotlist_plates()
    gen = ReadGenerator(sites, timing, hotlist, seed=1)
    reads = gen.reads_until(3600.0, _wall)
    per_unit = Counter(r["device_id"] for r in reads)
    assert set(per_unit) == {s.device_id for s in sites}
    # the log's mean gap while reading, faster at the LA local hour's factor
    expected = 3600 * timing.hourly_profile[13] / (statistics.fmean(timing.gap_quantiles_s)
                                                   + 0.5)
    assert 0.5 * expected < statistics.median(per_unit.values()) < 1.5 * expected
    hot = [r for r in reads if r["plate"] in hotlist]
    assert 45 <= len(hot) <= 75 and gen.hotlist_reads == len(hot)
    assert all(re.match(FAKE_PLATE_PATTERN, r["plate"]) for r in reads)
    assert [r["read_at"] for r in reads] == sorted(r["read_at"] for r in reads)
    by_id = {s.device_id: s for s in sites}
    for r in reads:
        s = by_id[r["device_id"]]
        d = haversine_m(s.lat, s.lon, r["lat"], r["lon"])
        assert (d <= 1501) if s.mobile else d == 0
    repeats = 1 - len({r["plate"] for r in reads}) / len(reads)
    assert 0.5 * (1 - timing.distinct_plate_ratio) < repeats < 2 * (1 - timing.distinct_plate_ratio)


def test_generator_is_deterministic_for_a_seed() -> None:
    def run() -> list[dict]:
        return ReadGenerator(load_sites(), ReadTiming.load(), ["0ZZZ999"], seed=5).reads_until(
            600.0, _wall)
    assert run() == run()


def test_bad_timing_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps({"gap_quantiles_s": [0, 1]}))
    with pytest.raises(ValueError, match="t.json"):
        ReadTiming.load(bad)


def test_feed_posts_reads_and_makes_hits(server: Server) -> None:
    token = server.tokens[Role.admin]
    hotlist_id = install_demo_hotlist(server.url, token)
    assert install_demo_hotlist(server.url, token) == hotlist_id  # idempotent
    feed = AlprFeed(hit_interval_s=0.5, speed=20, flush_s=0.2, seed=3)
    feed.start(server.url, token)
    try:
        deadline = time.monotonic() + 20
        while not (feed.hit_ids and feed.posted > 100) and time.monotonic() < deadline:
            time.sleep(0.05)  # poll-until-condition
    finally:
        feed.stop()
    assert not feed.running and feed.errors == 0, feed.last_error
    assert feed.hit_ids and feed.posted > 100
    with server.client(Role.operator) as c:
        hit = c.get(f"/api/v1/alpr/hits/{feed.hit_ids[0]}").json()
        lists = {h["name"]: h["id"] for h in c.get("/api/v1/alpr/hotlists").json()}
    assert lists[DEMO_HOTLIST_NAME] == hotlist_id and hit["hotlist_id"] == hotlist_id
    assert hit["plate"] in demo_hotlist_plates()


def test_feed_reports_post_failures_without_leaking_the_token(server: Server) -> None:
    feed = AlprFeed(hit_interval_s=0.5, speed=50, flush_s=0.1, seed=4)
    feed.start(server.url, "secret-token-123")  # refused: 401
    try:
        deadline = time.monotonic() + 20
        while not feed.errors and time.monotonic() < deadline:
            time.sleep(0.05)  # poll-until-condition
    finally:
        feed.stop()
    assert feed.errors and feed.posted == 0
    assert "401" in (feed.last_error or "") and "secret-token-123" not in feed.last_error
