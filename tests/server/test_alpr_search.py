"""``GET /api/v1/alpr/search``: refused without reason code and case number, audited with
its query; plate wildcards and substrings, time range, bounding box, LAPD division."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from console.model import Role
from tests.server.conftest import Server
from tests.server.test_alpr import JUSTIFY, audit_records, field_of, ingest, read

# Central (Area 1) near City Hall; Harbor (Area 5) in San Pedro; Santa Monica, in no division
CENTRAL = (34.0537, -118.2427)
HARBOR = (33.7361, -118.2922)
SANTA_MONICA = (34.0195, -118.4912)
T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def tag(server: Server) -> str:
    """A 4-character plate prefix unique to this module run, and its reads."""
    t = "Q" + uuid.uuid4().hex[:3].upper()
    reads = []
    for i, (where, suffix) in enumerate([(CENTRAL, "AA1"), (CENTRAL, "AB2"), (HARBOR, "AA3"),
                                         (SANTA_MONICA, "XA4")]):
        reads.append(read(t + suffix, lat=where[0], lon=where[1],
                          read_at=(T0 + timedelta(hours=i)).isoformat()))
    ingest(server, *reads)
    return t


def search(server: Server, role: Role = Role.operator, **params: object) -> list[str]:
    with server.client(role) as c:
        r = c.get("/api/v1/alpr/search", params={**JUSTIFY, **params})
    assert r.status_code == 200, r.text
    return sorted(x["plate"] for x in r.json()["reads"])


@pytest.mark.parametrize(("params", "loc"), [
    ({"case": "DR-1234"}, ["query", "reason"]),
    ({"reason": "curiosity", "case": "DR-1234"}, ["query", "reason"]),
    ({"reason": "investigation"}, ["query", "case"]),
    ({"reason": "investigation", "case": "x"}, ["query", "case"]),
])
def test_refused_without_justification(server: Server, params: dict, loc: list) -> None:
    with server.client(Role.operator) as c:
        r = c.get("/api/v1/alpr/search", params={"plate": "ABC", **params})
    assert field_of(r) == loc


@pytest.mark.parametrize(("params", "loc"), [
    ({}, ["query", "plate"]),
    ({"plate": "AB%"}, ["query", "plate"]),
    ({"plate": "A", "bbox": "1,2,3"}, ["query", "bbox"]),
    ({"plate": "A", "bbox": "10,0,5,1"}, ["query", "bbox"]),
    ({"plate": "A", "division": 22}, ["query", "division"]),
])
def test_bad_queries_name_the_field(server: Server, params: dict, loc: list) -> None:
    with server.client(Role.operator) as c:
        r = c.get("/api/v1/alpr/search", params={**JUSTIFY, **params})
    assert field_of(r) == loc


def test_plate_patterns(server: Server, tag: str) -> None:
    assert search(server, plate=f"{tag}AA?") == [f"{tag}AA1", f"{tag}AA3"]
    assert search(server, plate=f"{tag}*") == sorted(f"{tag}{s}" for s in
                                                     ("AA1", "AB2", "AA3", "XA4"))
    assert search(server, plate=f"{tag[1:]}AB") == [f"{tag}AB2"]  # substring
    assert search(server, plate=f"{tag.lower()}-aa1") == [f"{tag}AA1"]  # full, normalised


def test_time_range_bbox_and_division(server: Server, tag: str) -> None:
    window = {"since": (T0 + timedelta(minutes=30)).isoformat(),
              "until": (T0 + timedelta(hours=2, minutes=30)).isoformat()}
    assert search(server, plate=f"{tag}*", **window) == [f"{tag}AA3", f"{tag}AB2"]
    assert search(server, plate=f"{tag}*", division=1) == [f"{tag}AA1", f"{tag}AB2"]
    assert search(server, plate=f"{tag}*", division=5) == [f"{tag}AA3"]
    # Santa Monica's point lies inside West LA's bounding box but outside the division
    assert search(server, plate=f"{tag}*", division=8) == []
    assert search(server, plate=f"{tag}*", bbox="-118.6,34.0,-118.4,34.1") == [f"{tag}XA4"]


def test_truncation_flag(server: Server, tag: str) -> None:
    with server.client(Role.operator) as c:
        body = c.get("/api/v1/alpr/search", params={**JUSTIFY, "plate": f"{tag}*",
                                                    "limit": 2}).json()
    assert len(body["reads"]) == 2 and body["truncated"] is True
    assert [r["plate"] for r in body["reads"]] == [f"{tag}XA4", f"{tag}AA3"]  # newest first


def test_every_search_is_audited_with_its_query(server: Server, tag: str) -> None:
    case = f"CASE-{uuid.uuid4().hex[:8].upper()}"
    with server.client(Role.operator) as c:
        r = c.get("/api/v1/alpr/search", params={"reason": "investigation", "case": case,
                                                 "plate": f"{tag}AA?", "division": 1})
    assert r.status_code == 200
    (rec,) = [a for a in audit_records(server, "alpr.search") if a["case_number"] == case]
    assert (rec["username"], rec["reason_code"], rec["target"]) == (
        "operator", "investigation", f"plate:{tag}AA?")
    assert rec["detail"]["query"]["division"] == 1 and rec["detail"]["results"] == 1


def test_auditors_may_not_search(server: Server) -> None:
    with server.client(Role.auditor) as c:
        r = c.get("/api/v1/alpr/search", params={**JUSTIFY, "plate": "ABC"})
    assert r.status_code == 403
