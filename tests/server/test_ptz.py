"""PTZ over HTTP against the simulated PTZ camera: lock priority and takeover (audited,
published), commands need the lock, dead-man stop, presets, and the picture seen through
the media gateway really pans."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from console.model import Event, PtzLock, PtzPosition, PtzPreset, Role
from console.server.sim.ptz import SimPtzCamera, SimPtzDriver
from tests.media.test_ptz_camera import (
    cache_dir,
    expected_shift,
    grab_gray,
    horizontal_shift,
    wait_until,
)
from tests.server.conftest import Server
from tests.server.test_cameras import camera_body

REASON = {"reason": "active-incident", "case": "DR-2025-0042"}


@pytest.fixture(scope="module")
def ptz_cam() -> Iterator[SimPtzCamera]:
    with SimPtzCamera("ptzapi", cache_dir()) as cam:
        yield cam


@pytest.fixture(scope="module")
def cams(server: Server, ptz_cam: SimPtzCamera) -> Iterator[dict[str, str]]:
    """A PTZ camera (sources = the simulator, driver registered) and a fixed one."""
    suffix = uuid.uuid4().hex[:6]
    ids = {"ptz": f"ptz-{suffix}", "fixed": f"fixed-{suffix}"}
    full = {"pan_tilt": True, "zoom": True, "presets": True, "home": True}
    with server.client(Role.admin) as admin:
        body = camera_body(ids["ptz"], ptz=full)
        body["sources"] = {p: ptz_cam.url(p) for p in ("main", "sub")}
        admin.post("/api/v1/cameras", json=body).raise_for_status()
        admin.post("/api/v1/cameras", json=camera_body(ids["fixed"], ptz={})).raise_for_status()
    service = server.handle.app.state.ptz
    service.register_driver(ids["ptz"], SimPtzDriver(ptz_cam))
    try:
        yield ids
    finally:
        service.remove_driver(ids["ptz"])
        with server.client(Role.admin) as admin:
            for cam_id in ids.values():
                admin.delete(f"/api/v1/cameras/{cam_id}")


def ptz(cam_id: str, what: str) -> str:
    return f"/api/v1/cameras/{cam_id}/ptz/{what}"


@pytest.fixture
def cam(server: Server, cams: dict[str, str]) -> Iterator[str]:
    """The PTZ camera, its lock free before and after the test."""
    cam_id = cams["ptz"]
    service = server.handle.app.state.ptz
    yield cam_id
    state = service.lock(cam_id)
    if state is not None:
        with server.client(state.role) as c:
            c.delete(ptz(cam_id, "lock"))


def last_event_id(server: Server) -> int:
    with server.client(Role.operator) as c:
        events = c.get("/api/v1/events", params={"last_event_id": 0, "limit": 1000}).json()
    return max((e["id"] for e in events), default=0)


def events_since(server: Server, after: int, kind: str) -> list[Event]:
    with server.client(Role.operator) as c:
        r = c.get("/api/v1/events", params={"last_event_id": after, "limit": 1000})
    r.raise_for_status()
    return [e for e in map(Event.model_validate, r.json()) if e.type == kind]


def audit_records(server: Server, action: str) -> list[dict]:
    with server.client(Role.auditor) as c:
        r = c.get("/api/v1/audit", params={"action": action, "limit": 50})
    r.raise_for_status()
    return r.json()


def test_capabilities(server: Server, cams: dict[str, str]) -> None:
    with server.client(Role.auditor) as c:
        assert c.get(ptz(cams["ptz"], "capabilities")).json() == {
            "pan_tilt": True, "zoom": True, "presets": True, "home": True}
        assert c.get(ptz("no-such-cam", "capabilities")).status_code == 404


def test_lock_priority_takeover_and_release(server: Server, cam: str) -> None:
    after = last_event_id(server)
    with server.client(Role.operator) as op, server.client(Role.trainer) as tr, \
            server.client(Role.supervisor) as sup:
        r = op.post(ptz(cam, "lock"))
        assert r.status_code == 200, r.text
        lock = PtzLock.model_validate(r.json())
        assert (lock.holder, lock.role) == ("operator", Role.operator)
        assert 20 < (lock.expires_at - datetime.now(UTC)).total_seconds() <= 31
        assert PtzLock.model_validate(tr.get(ptz(cam, "lock")).json()).holder == "operator"

        # An equal takes nothing; the error names the holder.
        r = tr.post(ptz(cam, "lock"))
        assert r.status_code == 423 and "'operator' (operator)" in r.json()["detail"]
        # A supervisor needs a reason and a case number to take over.
        r = sup.post(ptz(cam, "lock"))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "reason"]
        r = sup.post(ptz(cam, "lock"), params={"reason": "active-incident"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "case"]
        r = sup.post(ptz(cam, "lock"), params=REASON)
        assert r.status_code == 200, r.text
        assert PtzLock.model_validate(r.json()).holder == "supervisor"

        # The operator lost control, and is told who has it.
        r = op.post(ptz(cam, "move"), json={"pan": 0.5})
        assert r.status_code == 423 and "'supervisor'" in r.json()["detail"]
        # ... and cannot take it back (lower priority than the holder).
        assert op.post(ptz(cam, "lock")).status_code == 423

        assert sup.delete(ptz(cam, "lock")).status_code == 200
        assert PtzLock.model_validate(op.get(ptz(cam, "lock")).json()).holder is None

    takeover = audit_records(server, "ptz.lock.takeover")[0]
    assert (takeover["username"], takeover["reason_code"], takeover["case_number"]) == (
        "supervisor", "active-incident", "DR-2025-0042")
    assert takeover["detail"] == {"previous": "operator"}
    assert audit_records(server, "ptz.lock.taken")[0]["username"] == "operator"
    changes = [(e.data["change"], e.data["holder"], e.data["previous"])
               for e in events_since(server, after, "ptz.lock") if e.data["camera_id"] == cam]
    assert changes == [("taken", "operator", None), ("takeover", "supervisor", "operator"),
                       ("released", None, "supervisor")]


def test_commands_need_the_lock(server: Server, cam: str) -> None:
    with server.client(Role.operator) as op:
        r = op.post(ptz(cam, "move"), json={"pan": 0.5})
        assert r.status_code == 409 and "take the PTZ lock" in r.json()["detail"]
        for what in ("stop", "home"):
            assert op.post(ptz(cam, what)).status_code == 409


def test_roles_without_control_are_refused(server: Server, cam: str) -> None:
    with server.client(Role.auditor) as aud:
        assert aud.post(ptz(cam, "lock")).status_code == 403
        assert aud.post(ptz(cam, "move"), json={"pan": 1}).status_code == 403


def test_camera_without_ptz_says_so(server: Server, cams: dict[str, str]) -> None:
    with server.client(Role.operator) as op:
        r = op.post(ptz(cams["fixed"], "lock"))
        assert r.status_code == 409 and r.json()["detail"] == f"camera {cams['fixed']!r} has no PTZ"


def test_move_values_are_validated(server: Server, cam: str) -> None:
    with server.client(Role.operator) as op:
        op.post(ptz(cam, "lock")).raise_for_status()
        r = op.post(ptz(cam, "move"), json={"pan": 1.5})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "pan"]


def pan_of(c: httpx.Client, cam: str) -> float:
    return PtzPosition.model_validate(c.get(ptz(cam, "position")).json()).pan


def test_refreshed_move_keeps_going(server: Server, cam: str, ptz_cam: SimPtzCamera) -> None:
    ptz_cam.goto(-1, 0, 0)
    with server.client(Role.operator) as op:
        op.post(ptz(cam, "lock")).raise_for_status()

        def moved_far() -> bool:  # refresh every poll: well past one dead-man period
            assert op.post(ptz(cam, "move"), json={"pan": 1}).status_code == 204
            return pan_of(op, cam) > -0.1  # 0.9 units = 1.8 s of motion at full speed

        wait_until(moved_far, 15, "a refreshed move to carry on past the dead-man period")
        assert op.post(ptz(cam, "stop")).status_code == 204
        stopped = pan_of(op, cam)
        assert pan_of(op, cam) == pytest.approx(stopped, abs=1e-3)


def test_unrefreshed_move_stops_by_itself(server: Server, cam: str, ptz_cam: SimPtzCamera) -> None:
    ptz_cam.goto(-1, 0, 0)
    service = server.handle.app.state.ptz
    with server.client(Role.operator) as op:
        op.post(ptz(cam, "lock")).raise_for_status()
        assert op.post(ptz(cam, "move"), json={"pan": 1}).status_code == 204
        assert service.moving(cam)
        wait_until(lambda: not service.moving(cam), 10, "the dead-man stop")
        halted = pan_of(op, cam)
        # Without the dead-man it would have swept on to +1 (4 s); it stopped after ~1 s.
        assert -1 < halted < -0.2
        wait_until(lambda: pan_of(op, cam) == pytest.approx(halted, abs=1e-3), 5,
                   "the camera to stay where the dead-man stopped it")


def test_presets_save_list_go(server: Server, cam: str, ptz_cam: SimPtzCamera) -> None:
    name = f"gate-{uuid.uuid4().hex[:4]}"
    ptz_cam.goto(0.4, -0.2, 0.5)
    with server.client(Role.operator) as op, server.client(Role.supervisor) as sup:
        assert op.put(ptz(cam, f"presets/{name}")).status_code == 403
        r = sup.put(ptz(cam, f"presets/{name}"))
        assert r.status_code == 200, r.text
        saved = PtzPreset.model_validate(r.json())
        assert (saved.position.pan, saved.position.tilt, saved.position.zoom) == pytest.approx(
            (0.4, -0.2, 0.5), abs=1e-3)
        assert name in [p["name"] for p in op.get(ptz(cam, "presets")).json()]

        op.post(ptz(cam, "lock")).raise_for_status()
        assert op.post(ptz(cam, "home")).status_code == 204
        assert ptz_cam.position() == PtzPosition()
        assert op.post(ptz(cam, f"presets/{name}/go")).status_code == 204
        assert ptz_cam.position().pan == pytest.approx(0.4, abs=1e-3)
        r = op.post(ptz(cam, "presets/nowhere/go"))
        assert r.status_code == 404 and "'nowhere'" in r.json()["detail"]
        assert sup.delete(ptz(cam, f"presets/{name}")).status_code == 204
    assert audit_records(server, "ptz.preset.save")[0]["detail"]["preset"] == name


def test_idle_lock_expires_and_is_announced(server: Server, cam: str) -> None:
    service = server.handle.app.state.ptz
    after = last_event_id(server)
    saved = service.lock_idle_s
    service.lock_idle_s = 0.5
    try:
        with server.client(Role.operator) as op:
            op.post(ptz(cam, "lock")).raise_for_status()
            wait_until(lambda: PtzLock.model_validate(op.get(ptz(cam, "lock")).json()).holder is None,
                       10, "the idle lock to expire")
    finally:
        service.lock_idle_s = saved
    wait_until(lambda: [e for e in events_since(server, after, "ptz.lock")
                        if e.data["camera_id"] == cam and e.data["change"] == "expired"],
               10, "a ptz.lock 'expired' event")


def test_pan_is_visible_through_the_gateway(server: Server, cam: str, ptz_cam: SimPtzCamera) -> None:
    """API -> driver -> simulator -> RTSP -> gateway -> HTTP MPEG-TS -> decoded pixels."""
    name = f"right-{uuid.uuid4().hex[:4]}"
    ptz_cam.goto(0.3, 0, 0)
    with server.client(Role.supervisor) as sup:
        sup.put(ptz(cam, f"presets/{name}")).raise_for_status()
    with server.client(Role.operator) as op:
        url = op.get(f"/api/v1/cameras/{cam}/streams/sub").json()["url"]
        op.post(ptz(cam, "lock")).raise_for_status()
        assert op.post(ptz(cam, "home")).status_code == 204
        before = grab_gray(url)
        assert op.post(ptz(cam, f"presets/{name}/go")).status_code == 204
        after = grab_gray(url)
    shift, err = horizontal_shift(before, after)
    assert shift == pytest.approx(expected_shift(0, 0.3), abs=3), (shift, err)
    assert err < 4
