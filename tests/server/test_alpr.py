"""ALPR over real HTTP: hotlists and import, read ingest with matching, hits and their
disposition, covert lists. The server is shared by the session: every test makes its own
hotlists (unique names) and plates (unique, ``plate()``)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from console.model import Role
from tests.server.conftest import Server

NCIC_EXAMPLE = "V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK"
JUSTIFY = {"reason": "hotlist-hit", "case": "DR-2025-0001"}
CHECKED = {"plate_matches_image": True, "state_matches": True, "entry_still_active": True}


def plate() -> str:
    return "Z" + uuid.uuid4().hex[:7].upper()


def make_hotlist(server: Server, role: Role = Role.supervisor, **fields: Any) -> dict:
    body = {"name": f"list-{uuid.uuid4().hex[:8]}", **fields}
    with server.client(role) as c:
        r = c.post("/api/v1/alpr/hotlists", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def import_csv(server: Server, hotlist_id: int, rows: list[str], mode: str = "append",
               role: Role = Role.supervisor) -> dict:
    text = "plate,state,list_type,reason,expires\n" + "\n".join(rows) + "\n"
    with server.client(role) as c:
        r = c.post(f"/api/v1/alpr/hotlists/{hotlist_id}/import",
                   params={"format": "csv", "mode": mode, "source": "t.csv"}, content=text)
    assert r.status_code == 200, r.text
    return r.json()


def read(p: str, state: str | None = "CA", **fields: Any) -> dict:
    return {"device_id": "cam-1", "plate": p, "state": state, "confidence": 0.9,
            "read_at": datetime.now(UTC).isoformat(), "lat": 34.0522, "lon": -118.2437,
            **fields}


def ingest(server: Server, *reads: dict) -> dict:
    with server.client(Role.admin) as c:
        r = c.post("/api/v1/alpr/reads", json={"reads": list(reads)})
    assert r.status_code == 200, r.text
    return r.json()


def last_event_id(server: Server) -> int:
    with server.client(Role.supervisor) as c:
        events = c.get("/api/v1/events", params={"last_event_id": 0, "limit": 1000}).json()
        while len(events) == 1000:
            events = c.get("/api/v1/events", params={"last_event_id": events[-1]["id"],
                                                     "limit": 1000}).json()
    return events[-1]["id"] if events else 0


def events_since(server: Server, after: int, type_: str) -> list[dict]:
    with server.client(Role.supervisor) as c:
        events = c.get("/api/v1/events", params={"last_event_id": after, "limit": 1000}).json()
    return [e["data"] for e in events if e["type"] == type_]


def audit_records(server: Server, action: str) -> list[dict]:
    with server.client(Role.auditor) as c:
        r = c.get("/api/v1/audit", params={"action": action, "limit": 50})
    assert r.status_code == 200, r.text
    return r.json()


def field_of(r: httpx.Response) -> list:
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]["loc"]


# --- hotlists -------------------------------------------------------------------------------

def test_hotlist_crud_and_version(server: Server) -> None:
    h = make_hotlist(server, priority=80, description="stolen vehicles")
    assert (h["priority"], h["covert"], h["active"], h["version"]) == (80, False, True, 1)
    with server.client(Role.admin) as c:
        r = c.patch(f"/api/v1/alpr/hotlists/{h['id']}", json={"priority": 10})
        assert r.status_code == 200 and r.json()["priority"] == 10 and r.json()["version"] == 2
        assert c.post("/api/v1/alpr/hotlists", json={"name": h["name"]}).status_code == 409
        assert h["id"] in [x["id"] for x in c.get("/api/v1/alpr/hotlists").json()]
        assert c.delete(f"/api/v1/alpr/hotlists/{h['id']}").status_code == 204
        assert c.get(f"/api/v1/alpr/hotlists/{h['id']}").status_code == 404
    with server.client(Role.operator) as c:
        assert c.post("/api/v1/alpr/hotlists", json={"name": "x"}).status_code == 403


def test_ncic_import_reports_bad_lines_and_keeps_good_ones(server: Server) -> None:
    h = make_hotlist(server, source_format="ncic")
    bad = "Q" + NCIC_EXAMPLE[1:]
    text = f"NCIC EXTRACT HEADER\n{NCIC_EXAMPLE}\n{bad}\n"
    with server.client(Role.supervisor) as c:
        r = c.post(f"/api/v1/alpr/hotlists/{h['id']}/import",
                   params={"source": "VEHEXTRT.txt"}, content=text)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["imported"] == 1 and body["version"] == 2
        assert body["errors"] == [{"source": "VEHEXTRT.txt", "line": 3, "field": "nic",
                                   "message": body["errors"][0]["message"]}]
        (entry,) = c.get(f"/api/v1/alpr/hotlists/{h['id']}/entries").json()
        assert (entry["plate"], entry["state"], entry["category"], entry["active"]) == (
            "AB123456", "CA", "Stolen vehicle", True)
        found = c.get(f"/api/v1/alpr/hotlists/{h['id']}/entries/ab-123456").json()
        assert [e["nic"] for e in found] == ["V123456789"]
        assert c.get(f"/api/v1/alpr/hotlists/{h['id']}/entries/ZZZ999").status_code == 404
        assert c.get(f"/api/v1/alpr/hotlists/{h['id']}").json()["entry_count"] == 1


def test_clew_import_checks_the_trailer_and_replace_mode(server: Server) -> None:
    h = make_hotlist(server, source_format="clew")
    import_csv(server, h["id"], ["OLD1,CA,V,old,"])
    text = "DATE07/02/2018 09:00\nABC1234 CA1220190515\nTOTAL RECORD 0000002\n"
    with server.client(Role.supervisor) as c:
        r = c.post(f"/api/v1/alpr/hotlists/{h['id']}/import",
                   params={"source": "slr.tbl", "mode": "replace"}, content=text)
        body = r.json()
        assert (body["imported"], body["removed"]) == (1, 1)
        assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "total")]
        (entry,) = c.get(f"/api/v1/alpr/hotlists/{h['id']}/entries").json()
        assert (entry["plate"], entry["list_type"], entry["extra"]) == ("ABC1234", "P",
                                                                        {"county": "12"})


@pytest.mark.parametrize(("params", "content", "loc"), [
    ({"format": "xml"}, "x", ["query", "format"]),
    ({}, "plate\nA1\n", ["query", "format"]),  # a manual list: the format must be given
    ({"format": "csv"}, b"plate\n\xff\xfe\n", ["body"]),
    ({"format": "csv"}, b"", ["body"]),
])
def test_import_refusals_name_the_field(server: Server, params: dict, content: Any,
                                        loc: list) -> None:
    h = make_hotlist(server)
    with server.client(Role.supervisor) as c:
        r = c.post(f"/api/v1/alpr/hotlists/{h['id']}/import", params=params, content=content)
    assert field_of(r) == loc


# --- ingest and matching --------------------------------------------------------------------

def test_ingest_matches_live_entries_and_publishes_the_hit(server: Server) -> None:
    wanted, other, expired, inactive = plate(), plate(), plate(), plate()
    h = make_hotlist(server, priority=90)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    import_csv(server, h["id"], [f"{wanted},NV,V,stolen in Reno,", f"{expired},CA,V,old,{past}"])
    off = make_hotlist(server, active=False)
    import_csv(server, off["id"], [f"{inactive},CA,P,,"])
    before = last_event_id(server)
    result = ingest(server, read(other), read(wanted.lower(), state="CA"), read(expired),
                    read(inactive))
    assert result["accepted"] == 4 and len(result["hit_ids"]) == 1
    with server.client(Role.operator) as c:
        hit = c.get(f"/api/v1/alpr/hits/{result['hit_ids'][0]}").json()
    assert (hit["plate"], hit["read_state"], hit["entry_state"], hit["status"]) == (
        wanted, "CA", "NV", "pending")
    assert (hit["hotlist_id"], hit["priority"], hit["reason"], hit["category"]) == (
        h["id"], 90, "stolen in Reno", "Stolen vehicle")
    published = events_since(server, before, "alpr.hit")
    assert [e["id"] for e in published] == result["hit_ids"]
    assert published[0]["plate"] == wanted


def test_hotlist_changes_reach_the_index(server: Server) -> None:
    p = plate()
    h = make_hotlist(server)
    assert ingest(server, read(p))["hit_ids"] == []
    import_csv(server, h["id"], [f"{p},CA,V,,"])
    assert len(ingest(server, read(p))["hit_ids"]) == 1
    with server.client(Role.supervisor) as c:
        c.patch(f"/api/v1/alpr/hotlists/{h['id']}", json={"active": False}).raise_for_status()
    assert ingest(server, read(p))["hit_ids"] == []


def test_manual_entries_reach_the_index(server: Server) -> None:
    p = plate()
    h = make_hotlist(server)
    with server.client(Role.supervisor) as c:
        r = c.post(f"/api/v1/alpr/hotlists/{h['id']}/entries",
                   json={"plate": p.lower(), "state": "ca", "reason": "manual"})
        assert r.status_code == 201, r.text
        entry = r.json()
        assert (entry["plate"], entry["state"], entry["active"]) == (p, "CA", True)
        assert len(ingest(server, read(p))["hit_ids"]) == 1
        assert c.delete(f"/api/v1/alpr/hotlists/{h['id']}/entries/{entry['id']}"
                        ).status_code == 204
        assert c.delete(f"/api/v1/alpr/hotlists/{h['id']}/entries/{entry['id']}"
                        ).status_code == 404
    assert ingest(server, read(p))["hit_ids"] == []


@pytest.mark.parametrize(("reads", "loc"), [
    ([], ["body", "reads"]),
    ([read("AB_1")], ["body", "reads", 0, "plate"]),
    ([read("AB1", confidence=2)], ["body", "reads", 0, "confidence"]),
    ([read("AB1", state="C")], ["body", "reads", 0, "state"]),
    ([read("AB1", read_at="2025-01-01T00:00:00")], ["body", "reads", 0, "read_at"]),
    ([read("AB1", device_id="cam\x00")], ["body", "reads", 0, "device_id"]),
])
def test_ingest_validation_names_the_field(server: Server, reads: list, loc: list) -> None:
    with server.client(Role.admin) as c:
        r = c.post("/api/v1/alpr/reads", json={"reads": reads})
    assert field_of(r) == loc


# --- disposition ----------------------------------------------------------------------------

def _hit(server: Server, **hotlist: Any) -> tuple[dict, str, int]:
    p = plate()
    h = make_hotlist(server, **hotlist)
    import_csv(server, h["id"], [f"{p},CA,V,,"])
    (hit_id,) = ingest(server, read(p))["hit_ids"]
    return h, p, hit_id


def _dispose(server: Server, hit_id: int, role: Role = Role.operator,
             **body: Any) -> httpx.Response:
    with server.client(role) as c:
        return c.post(f"/api/v1/alpr/hits/{hit_id}/disposition", json={**JUSTIFY, **body})


@pytest.mark.parametrize("unchecked", list(CHECKED))
def test_accept_needs_every_checklist_item(server: Server, unchecked: str) -> None:
    _, _, hit_id = _hit(server)
    r = _dispose(server, hit_id, decision="accept", **{**CHECKED, unchecked: False})
    assert field_of(r) == ["body", unchecked]


def test_accept_is_audited_and_published(server: Server) -> None:
    h, _, hit_id = _hit(server)
    before = last_event_id(server)
    r = _dispose(server, hit_id, decision="accept", note="confirmed on image", **CHECKED)
    assert r.status_code == 200, r.text
    d = r.json()["disposition"]
    assert r.json()["status"] == "accepted"
    assert (d["by"], d["reason_code"], d["case_number"]) == ("operator", "hotlist-hit",
                                                             "DR-2025-0001")
    assert [e["id"] for e in events_since(server, before, "alpr.hit.updated")] == [hit_id]
    rec = next(a for a in audit_records(server, "alpr.hit.disposition")
               if a["target"] == f"alpr_hit:{hit_id}")
    assert (rec["outcome"], rec["reason_code"], rec["case_number"]) == ("accept", "hotlist-hit",
                                                                        "DR-2025-0001")
    assert _dispose(server, hit_id, decision="accept", **CHECKED).status_code == 409
    with server.client(Role.auditor) as c:
        stats = {s["hotlist_id"]: s for s in c.get("/api/v1/alpr/hotlists/stats").json()}
    assert (stats[h["id"]]["accepted"], stats[h["id"]]["reject_rate"]) == (1, 0.0)


def test_accept_refused_when_the_server_finds_the_entry_gone(server: Server) -> None:
    h, p, hit_id = _hit(server)
    import_csv(server, h["id"], [f"{plate()},CA,V,,"], mode="replace")  # p is off the list
    r = _dispose(server, hit_id, decision="accept", **CHECKED)
    assert field_of(r) == ["body", "entry_still_active"]
    assert p in r.json()["detail"][0]["msg"]
    rec = next(a for a in audit_records(server, "alpr.hit.disposition")
               if a["target"] == f"alpr_hit:{hit_id}")
    assert rec["outcome"] == "refused" and rec["detail"]["server_entry_still_active"] is False
    # rejecting it stays possible, and shows in the reject rate
    assert field_of(_dispose(server, hit_id, decision="reject", **CHECKED)) == [
        "body", "reject_reason"]
    r = _dispose(server, hit_id, decision="reject", reject_reason="entry_inactive", **CHECKED)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    with server.client(Role.supervisor) as c:
        stats = {s["hotlist_id"]: s for s in c.get("/api/v1/alpr/hotlists/stats").json()}
    assert (stats[h["id"]]["rejected"], stats[h["id"]]["reject_rate"]) == (1, 1.0)
    with server.client(Role.admin) as c:
        assert c.delete(f"/api/v1/alpr/hotlists/{h['id']}").status_code == 409  # hits on record


@pytest.mark.parametrize(("justify", "loc"), [
    ({"reason": "curiosity"}, ["body", "reason"]),
    ({"case": "no"}, ["body", "case"]),
])
def test_disposition_needs_a_valid_justification(server: Server, justify: dict,
                                                 loc: list) -> None:
    _, _, hit_id = _hit(server)
    with server.client(Role.operator) as c:
        r = c.post(f"/api/v1/alpr/hits/{hit_id}/disposition",
                   json={**JUSTIFY, **justify, "decision": "accept", **CHECKED})
    assert field_of(r) == loc


def test_hit_list_filters(server: Server) -> None:
    h, p, hit_id = _hit(server)
    with server.client(Role.auditor) as c:
        by_plate = c.get("/api/v1/alpr/hits", params={"plate": p}).json()
        by_list = c.get("/api/v1/alpr/hits", params={"hotlist_id": h["id"],
                                                     "status": "pending"}).json()
        none = c.get("/api/v1/alpr/hits", params={"plate": p, "status": "accepted"}).json()
    assert [x["id"] for x in by_plate] == [x["id"] for x in by_list] == [hit_id]
    assert none == []


# --- covert ---------------------------------------------------------------------------------

def test_covert_lists_and_hits_only_for_permitted_roles(server: Server) -> None:
    before = last_event_id(server)
    h, p, hit_id = _hit(server, covert=True)
    with server.client(Role.operator) as c:
        assert h["id"] not in [x["id"] for x in c.get("/api/v1/alpr/hotlists").json()]
        assert c.get(f"/api/v1/alpr/hotlists/{h['id']}").status_code == 404
        assert c.get(f"/api/v1/alpr/hotlists/{h['id']}/entries/{p}").status_code == 404
        assert c.get(f"/api/v1/alpr/hits/{hit_id}").status_code == 404
        assert c.get("/api/v1/alpr/hits", params={"plate": p}).json() == []
        assert h["id"] not in [s["hotlist_id"] for s in
                               c.get("/api/v1/alpr/hotlists/stats").json()]
    assert _dispose(server, hit_id, decision="accept", **CHECKED).status_code == 404
    (event,) = [e for e in events_since(server, before, "alpr.hit") if e["id"] == hit_id]
    assert event == {"id": hit_id, "covert": True, "audience": ["admin", "supervisor"]}
    with server.client(Role.supervisor) as c:
        assert c.get(f"/api/v1/alpr/hits/{hit_id}").json()["plate"] == p
    r = _dispose(server, hit_id, Role.supervisor, decision="accept", **CHECKED)
    assert r.status_code == 200, r.text
