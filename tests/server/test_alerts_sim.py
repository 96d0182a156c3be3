"""Scripted demo alerts: real LA places and divisions, valid bodies, and the feed posting
to a real server."""
from __future__ import annotations

from console.geo import division_of, load_divisions
from console.model import AlertIn, Role
from console.server.sim.alerts import (
    DIVISIONS_GEOJSON,
    AlertFeed,
    AlertScript,
    load_places,
)
from tests.server.conftest import Server
from tests.support.sse import wait_until


def test_places_cover_every_lapd_division_and_the_demo_cameras() -> None:
    places = load_places()
    assert {p.division for p in places if p.jitter_m == 600.0} == set(range(1, 22))
    assert any(p.camera_ids for p in places if p.jitter_m == 150.0)


def test_script_is_seeded_valid_and_places_alerts_in_their_division() -> None:
    divisions = load_divisions(DIVISIONS_GEOJSON)
    a, b = AlertScript(seed=7), AlertScript(seed=7)
    bodies = [a.next() for _ in range(60)]
    assert bodies == [b.next() for _ in range(60)]
    assert len({x["type"] for x in bodies}) >= 5
    for body in bodies:
        alert = AlertIn.model_validate(body)
        found = division_of(alert.lat, alert.lon, divisions)
        if found is not None:
            assert alert.division == found.area, body


def test_feed_posts_alerts_to_the_server(server: Server) -> None:
    feed = AlertFeed(interval_s=0.05, first_delay_s=0, seed=1)
    feed.start(server.url, server.tokens[Role.supervisor])
    try:
        wait_until(lambda: len(feed.alert_ids) >= 3 or feed.errors > 0, what="3 alerts")
    finally:
        feed.stop()
    assert feed.errors == 0, feed.last_error
    assert not feed.running
    with server.client(Role.operator) as c:
        for alert_id in feed.alert_ids:
            got = c.get(f"/api/v1/alerts/{alert_id}").json()
            assert got["state"] == "new" and got["created_by"] == "supervisor"
