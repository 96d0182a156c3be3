"""Alerts over real HTTP on both backends: create, filter, the transition state machine
(holder, history, reasons, 409 on a wrong state), events and audit records."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import httpx
import pytest

from console.model import Alert, AlertState, Role
from console.server import db
from tests.server.conftest import Server


def _new(c: httpx.Client, **fields: object) -> Alert:
    body = {"type": "shots-fired", "priority": 2, "title": f"Shots {uuid.uuid4().hex[:8]}",
            "text": "ShotSpotter: 3 rounds", "division": 12, "lat": 33.99, "lon": -118.31,
            "camera_ids": ["ca-lac-166"], **fields}
    r = c.post("/api/v1/alerts", json=body)
    assert r.status_code == 201, r.text
    return Alert.model_validate(r.json())


def _events_after(server: Server, after: int) -> list[dict]:
    with server.client(Role.operator) as c:
        return c.get("/api/v1/events", params={"last_event_id": after, "limit": 1000}).json()


def _last_event(server: Server) -> int:
    return server.handle.app.state.events.max_id()


def test_create_publishes_and_audits(server: Server) -> None:
    mark = _last_event(server)
    with server.client(Role.supervisor) as c:
        alert = _new(c)
    assert alert.state is AlertState.new and alert.holder is None
    assert alert.created_by == "supervisor" and [h.action for h in alert.history] == ["create"]
    (ev,) = [e for e in _events_after(server, mark) if e["type"] == "alert.created"]
    assert Alert.model_validate(ev["data"]) == alert
    with server.client(Role.auditor) as c:
        (rec,) = c.get("/api/v1/audit", params={"action": "alert.create", "limit": 1}).json()
    assert rec["target"] == f"alert/{alert.id}" and rec["username"] == "supervisor"


def test_full_lifecycle_tracks_holder_history_events_and_audit(server: Server) -> None:
    with server.client(Role.trainer) as c:
        alert = _new(c)
    mark = _last_event(server)
    steps = [("acknowledge", Role.operator, {"reason": "reviewing"}, "acknowledged", "operator"),
             ("assign", Role.operator, {"reason": "handover", "assignee": "supervisor"},
              "assigned", "supervisor"),
             ("escalate", Role.supervisor, {"reason": "needs-supervisor", "note": "armed"},
              "escalated", "supervisor"),
             ("close", Role.supervisor, {"reason": "units-dispatched"}, "closed", "supervisor")]
    for action, role, body, state, holder in steps:
        with server.client(role) as c:
            r = c.post(f"/api/v1/alerts/{alert.id}/{action}", json=body)
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["holder"]) == (state, holder)
    with server.client(Role.operator) as c:
        final = Alert.model_validate(c.get(f"/api/v1/alerts/{alert.id}").json())
    assert [(h.action, h.by, h.to_state.value, h.reason) for h in final.history][1:] == [
        ("acknowledge", "operator", "acknowledged", "reviewing"),
        ("assign", "operator", "assigned", "handover"),
        ("escalate", "supervisor", "escalated", "needs-supervisor"),
        ("close", "supervisor", "closed", "units-dispatched")]
    assert final.history[3].note == "armed"
    updates = [e["data"] for e in _events_after(server, mark)
               if e["type"] == "alert.updated" and e["data"]["id"] == alert.id]
    assert [u["state"] for u in updates] == ["acknowledged", "assigned", "escalated", "closed"]
    with server.client(Role.admin) as c:
        recs = c.get("/api/v1/audit", params={"limit": 50}).json()
    assert [r["action"] for r in recs if r["target"] == f"alert/{alert.id}"][:4] == [
        "alert.close", "alert.escalate", "alert.assign", "alert.acknowledge"]


@pytest.mark.parametrize(("setup", "action", "needs"), [
    (["acknowledge"], "acknowledge", "new"),
    (["close"], "close", "acknowledged, assigned, escalated, new"),
    (["escalate"], "escalate", "acknowledged, assigned, new"),
    (["close"], "assign", "acknowledged, assigned, escalated, new")])
def test_wrong_state_is_409_naming_the_states(server: Server, setup: list[str], action: str,
                                              needs: str) -> None:
    with server.client(Role.supervisor) as c:
        alert = _new(c)
        for step in setup:
            assert c.post(f"/api/v1/alerts/{alert.id}/{step}",
                          json={"reason": "reviewing"}).status_code == 200
        state = c.get(f"/api/v1/alerts/{alert.id}").json()["state"]
        r = c.post(f"/api/v1/alerts/{alert.id}/{action}",
                   json={"reason": "reviewing", "assignee": "operator"}
                   if action == "assign" else {"reason": "reviewing"})
    assert r.status_code == 409
    assert r.json()["detail"] == (f"alert {alert.id} is {state}: {action} needs state {needs}")


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": "bored"}, "reason"), ({}, "reason"),
    ({"reason": "handover"}, "assignee"),
    ({"reason": "handover", "assignee": "nobody"}, "assignee"),
    ({"reason": "handover", "assignee": "auditor"}, "assignee")])
def test_bad_assign_names_the_field(server: Server, body: dict, field: str) -> None:
    with server.client(Role.supervisor) as c:
        alert = _new(c)
        r = c.post(f"/api/v1/alerts/{alert.id}/assign", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == field


def test_assignee_only_for_assign(server: Server) -> None:
    with server.client(Role.supervisor) as c:
        alert = _new(c)
        r = c.post(f"/api/v1/alerts/{alert.id}/acknowledge",
                   json={"reason": "reviewing", "assignee": "operator"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "assignee"]


def test_two_operators_acknowledge_at_once_one_wins(server: Server) -> None:
    with server.client(Role.supervisor) as c:
        alert = _new(c)
    codes: list[int] = []
    barrier = threading.Barrier(2)

    def ack(role: Role) -> None:
        with server.client(role) as c:
            barrier.wait(10)
            codes.append(c.post(f"/api/v1/alerts/{alert.id}/acknowledge",
                                json={"reason": "reviewing"}).status_code)

    threads = [threading.Thread(target=ack, args=(r,)) for r in (Role.operator, Role.trainer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [200, 409]


def test_list_filters(server: Server) -> None:
    kind = f"test-{uuid.uuid4().hex[:8]}"
    start = db.utcnow() - timedelta(seconds=1)
    with server.client(Role.admin) as c:
        a = _new(c, type=kind, priority=1, division=1)
        b = _new(c, type=kind, priority=4, division=2)
        c.post(f"/api/v1/alerts/{b.id}/close", json={"reason": "false-alarm"})

        def ids(**params: object) -> list[int]:
            r = c.get("/api/v1/alerts", params={"type": kind, **params})
            assert r.status_code == 200, r.text
            return [x["id"] for x in r.json()]
        assert ids() == [b.id, a.id]
        assert ids(state="new") == [a.id]
        assert ids(state=["new", "closed"]) == [b.id, a.id]
        assert ids(division=2) == [b.id]
        assert ids(priority=2) == [a.id]
        assert ids(since=start.isoformat()) == [b.id, a.id]
        assert ids(since=(db.utcnow() + timedelta(minutes=1)).isoformat()) == []
        assert ids(limit=1) == [b.id]
        assert c.get("/api/v1/alerts", params={"state": "bogus"}).status_code == 422


def test_unknown_alert_is_404(server: Server) -> None:
    with server.client(Role.operator) as c:
        assert c.get("/api/v1/alerts/999999").status_code == 404
        assert c.post("/api/v1/alerts/999999/close",
                      json={"reason": "resolved"}).status_code == 404


@pytest.mark.parametrize(("field", "value"), [("priority", 0), ("priority", 6),
                                              ("division", 22), ("lat", 91), ("title", ""),
                                              ("type", "Has Spaces")])
def test_create_validation_names_the_field(server: Server, field: str, value: object) -> None:
    with server.client(Role.admin) as c:
        r = c.post("/api/v1/alerts", json={"type": "x", "title": "t", field: value})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field]


def test_operators_cannot_create_alerts(server: Server) -> None:
    with server.client(Role.operator) as c:
        assert c.post("/api/v1/alerts", json={"type": "x", "title": "t"}).status_code == 403
