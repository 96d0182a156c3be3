"""Stations and layouts over HTTP: round trip, versions, If-Match conflicts, validation."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from console.model import Layout, Station
from tests.server.conftest import Server


@pytest.fixture
def station(server: Server) -> Iterator[str]:
    sid = f"st-{uuid.uuid4().hex[:8]}"
    with server.client("supervisor") as c:
        assert c.post("/api/v1/stations", json={"id": sid, "name": "Desk", "screens": 2}
                      ).status_code == 201
        yield sid
        c.delete(f"/api/v1/stations/{sid}")


def grid(station_id: str, name: str = "wall", screen: int = 0, n: int = 2, **kw: object) -> dict:
    cells = [{"row": r, "col": c, "camera_id": f"cam-{r}{c}"} for r in range(n) for c in range(n)]
    return {"station_id": station_id, "screen": screen, "name": name, "kind": f"{n}x{n}",
            "rows": n, "cols": n, "cells": cells, **kw}


def test_station_crud(server: Server, station: str) -> None:
    with server.client("admin") as c:
        assert Station.model_validate(c.get(f"/api/v1/stations/{station}").json()).screens == 2
        assert c.put(f"/api/v1/stations/{station}",
                     json={"id": station, "name": "Desk 2", "screens": 3}).status_code == 200
        assert c.get(f"/api/v1/stations/{station}").json()["name"] == "Desk 2"
        assert station in [s["id"] for s in c.get("/api/v1/stations").json()]
        assert c.post("/api/v1/stations", json={"id": station, "name": "x"}).status_code == 409
        r = c.put(f"/api/v1/stations/{station}", json={"id": "other", "name": "x"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "id"]


def test_layout_round_trip(server: Server, station: str) -> None:
    with server.client("operator") as c:
        r = c.post("/api/v1/layouts", json=grid(station))
        assert r.status_code == 201, r.text
        created = Layout.model_validate(r.json())
        assert created.version == 1 and created.updated_by == "operator"
        assert r.headers["etag"] == '"1"'
        assert [(x.row, x.col, x.camera_id) for x in created.cells] == [
            (0, 0, "cam-00"), (0, 1, "cam-01"), (1, 0, "cam-10"), (1, 1, "cam-11")]
        c.post("/api/v1/layouts", json=grid(station, name="other", screen=1, n=1))

        got = Layout.model_validate(c.get(f"/api/v1/layouts/{created.id}").json())
        assert got == created
        listed = c.get(f"/api/v1/stations/{station}/layouts").json()
        assert [x["name"] for x in listed] == ["wall", "other"]
        only1 = c.get(f"/api/v1/stations/{station}/layouts", params={"screen": 1}).json()
        assert [x["name"] for x in only1] == ["other"]

    with server.client("trainer") as c:
        r = c.put(f"/api/v1/layouts/{created.id}", json=grid(station, n=3),
                  headers={"If-Match": '"1"'})
        assert r.status_code == 200, r.text
        v2 = Layout.model_validate(r.json())
        assert (v2.version, v2.rows, v2.updated_by, len(v2.cells)) == (2, 3, "trainer", 9)
        assert v2.updated_at is not None and v2.updated_at >= created.updated_at

        stale = c.put(f"/api/v1/layouts/{created.id}", json=grid(station), headers={"If-Match": "1"})
        assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
        # the stale write changed nothing
        assert c.get(f"/api/v1/layouts/{created.id}").json()["version"] == 2
        # without If-Match the last writer wins, and the version still moves on
        assert c.put(f"/api/v1/layouts/{created.id}", json=grid(station)).json()["version"] == 3

        assert c.delete(f"/api/v1/layouts/{created.id}").status_code == 204
        assert c.get(f"/api/v1/layouts/{created.id}").status_code == 404
        assert c.put(f"/api/v1/layouts/{created.id}", json=grid(station)).status_code == 404


def test_deleting_a_station_deletes_its_layouts(server: Server) -> None:
    with server.client("admin") as c:
        c.post("/api/v1/stations", json={"id": "gone-soon", "name": "x"})
        lid = c.post("/api/v1/layouts", json=grid("gone-soon")).json()["id"]
        assert c.delete("/api/v1/stations/gone-soon").status_code == 204
        assert c.get(f"/api/v1/layouts/{lid}").status_code == 404
        assert c.get("/api/v1/stations/gone-soon/layouts").status_code == 404


def test_duplicate_layout_name_is_409(server: Server, station: str) -> None:
    with server.client("admin") as c:
        assert c.post("/api/v1/layouts", json=grid(station)).status_code == 201
        assert c.post("/api/v1/layouts", json=grid(station)).status_code == 409
        assert c.post("/api/v1/layouts", json=grid(station, screen=1)).status_code == 201


@pytest.mark.parametrize("change,loc", [
    ({"rows": 0}, ["body", "rows"]),
    ({"rows": "four"}, ["body", "rows"]),
    ({"name": ""}, ["body", "name"]),
    ({"cells": [{"row": 0, "col": 5}]}, ["body", "cells", 0]),
    ({"cells": [{"row": 0, "col": 0, "row_span": 3}]}, ["body", "cells", 0]),
    ({"cells": [{"row": 0, "col": 0, "col_span": 2}, {"row": 0, "col": 1}]}, ["body", "cells", 1]),
    ({"cells": [{"row": -1, "col": 0}]}, ["body", "cells", 0, "row"]),
    ({"station_id": "no-such-station"}, ["body", "station_id"]),
])
def test_layout_validation_names_the_field(server: Server, station: str, change: dict,
                                          loc: list) -> None:
    with server.client("admin") as c:
        r = c.post("/api/v1/layouts", json=grid(station) | change)
    assert r.status_code == 422, r.text
    assert loc in [e["loc"] for e in r.json()["detail"]]


def test_bad_if_match_is_400_naming_the_header(server: Server, station: str) -> None:
    with server.client("admin") as c:
        lid = c.post("/api/v1/layouts", json=grid(station)).json()["id"]
        r = c.put(f"/api/v1/layouts/{lid}", json=grid(station), headers={"If-Match": "abc"})
    assert r.status_code == 400
    assert r.json()["detail"][0]["loc"] == ["header", "If-Match"]


def test_malformed_json_is_not_500(server: Server) -> None:
    with server.client("admin") as c:
        r = c.post("/api/v1/layouts", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
