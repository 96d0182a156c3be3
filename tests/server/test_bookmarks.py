"""Bookmarks over HTTP: idempotent create (retries and races make one bookmark), "now" with
pre/post roll, validation naming the field, search, update, delete rules, events, audit."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from console.model import Bookmark, Event, Role
from tests.server.conftest import Server
from tests.server.test_cameras import camera_body

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def camera(server: Server) -> Iterator[str]:
    cam_id = f"bm-{uuid.uuid4().hex[:6]}"
    with server.client(Role.admin) as admin:
        admin.post("/api/v1/cameras", json=camera_body(cam_id)).raise_for_status()
        yield cam_id
        admin.delete(f"/api/v1/cameras/{cam_id}")


def body(camera: str, **kw: object) -> dict:
    return {"camera_id": camera, "start": T0.isoformat(), "end": (T0 + timedelta(minutes=2)).isoformat(),
            "title": "Suspect vehicle", "notes": "grey sedan northbound", "tags": ["vehicle"], **kw}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def count(server: Server, **params: object) -> int:
    with server.client(Role.auditor) as c:
        r = c.get("/api/v1/bookmarks", params={"limit": 1000, **params})
    r.raise_for_status()
    return len(r.json())


def test_retry_with_the_same_key_returns_the_same_bookmark(server: Server, camera: str) -> None:
    title = f"retry {uuid.uuid4().hex[:6]}"
    headers = key()
    with server.client(Role.operator) as op:
        first = op.post("/api/v1/bookmarks", json=body(camera, title=title), headers=headers)
        assert first.status_code == 201, first.text
        again = op.post("/api/v1/bookmarks", json=body(camera, title=title), headers=headers)
        assert again.status_code == 200
        assert again.json() == first.json()
        changed = op.post("/api/v1/bookmarks", json=body(camera, title=title + "!"), headers=headers)
        assert changed.status_code == 422
        assert changed.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert count(server, q=title) == 1


def test_concurrent_retries_create_exactly_one(server: Server, camera: str) -> None:
    title = f"race {uuid.uuid4().hex[:6]}"
    headers = key()

    def post(_: int) -> tuple[int, int]:
        with server.client(Role.operator) as op:
            r = op.post("/api/v1/bookmarks", json=body(camera, title=title), headers=headers)
        return r.status_code, r.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8)))
    assert sorted(s for s, _ in results) == [200] * 7 + [201]
    assert len({i for _, i in results}) == 1
    assert count(server, q=title) == 1


def test_without_a_key_each_post_creates(server: Server, camera: str) -> None:
    title = f"nokey {uuid.uuid4().hex[:6]}"
    with server.client(Role.operator) as op:
        for _ in range(2):
            assert op.post("/api/v1/bookmarks", json=body(camera, title=title)).status_code == 201
    assert count(server, q=title) == 2


def test_now_with_pre_and_post_roll(server: Server, camera: str) -> None:
    headers = key()
    payload = {"camera_id": camera, "start": "now", "pre_roll_s": 30, "post_roll_s": 15,
               "title": "now mark"}
    with server.client(Role.operator) as op:
        before = datetime.now(UTC)
        r = op.post("/api/v1/bookmarks", json=payload, headers=headers)
        assert r.status_code == 201, r.text
        bm = Bookmark.model_validate(r.json())
        assert bm.end - bm.start == timedelta(seconds=45)
        assert before - timedelta(seconds=31) <= bm.start <= datetime.now(UTC) - timedelta(seconds=29)
        # A late retry (an outbox after an outage) does not move the range.
        assert Bookmark.model_validate(
            op.post("/api/v1/bookmarks", json=payload, headers=headers).json()).start == bm.start


@pytest.mark.parametrize(("change", "field"), [
    ({"end": None}, "end"),
    ({"end": (T0 - timedelta(seconds=1)).isoformat()}, "end"),
    ({"start": "2025-06-01T12:00:00"}, "start"),
    ({"case_number": "dr 12"}, "case_number"),
    ({"title": ""}, "title"),
    ({"tags": ["x" * 65]}, "tags"),
    ({"start": "now"}, "end"),
])
def test_validation_names_the_field(server: Server, camera: str, change: dict, field: str) -> None:
    with server.client(Role.operator) as op:
        r = op.post("/api/v1/bookmarks", json={**body(camera), **change}, headers=key())
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(field in map(str, d["loc"]) or field in d["msg"] for d in detail), detail


def test_unknown_camera_is_a_field_error(server: Server) -> None:
    with server.client(Role.operator) as op:
        r = op.post("/api/v1/bookmarks", json=body("no-such-camera"), headers=key())
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "camera_id"]


def test_bad_idempotency_key_is_refused(server: Server, camera: str) -> None:
    with server.client(Role.operator) as op:
        r = op.post("/api/v1/bookmarks", json=body(camera), headers={"Idempotency-Key": "x" * 129})
    assert r.status_code == 422 and "Idempotency-Key" in str(r.json()["detail"][0]["loc"])


def test_search_filters(server: Server, camera: str) -> None:
    tag = f"t{uuid.uuid4().hex[:6]}"
    case = f"DR-{uuid.uuid4().hex[:6].upper()}"
    with server.client(Role.operator) as op:
        for i, (title, tags, case_number) in enumerate([
                ("Blue van at gate", [tag], case), ("Crowd forming", [tag, "crowd"], None),
                ("Unrelated", ["other"], case)]):
            start = T0 + timedelta(hours=i)
            op.post("/api/v1/bookmarks", headers=key(), json=body(
                camera, title=title, tags=tags, case_number=case_number, start=start.isoformat(),
                end=(start + timedelta(minutes=5)).isoformat())).raise_for_status()
    with server.client(Role.auditor) as aud:
        def titles(**params: object) -> list[str]:
            r = aud.get("/api/v1/bookmarks", params={"camera_id": camera, "limit": 1000, **params})
            r.raise_for_status()
            return [b["title"] for b in r.json()]

        assert titles(tag=tag) == ["Crowd forming", "Blue van at gate"]  # newest first
        assert titles(case=case) == ["Unrelated", "Blue van at gate"]
        assert titles(q="BLUE VAN") == ["Blue van at gate"]
        assert "Crowd forming" in titles(start=(T0 + timedelta(minutes=62)).isoformat(),
                                          end=(T0 + timedelta(minutes=63)).isoformat())
        assert "Blue van at gate" not in titles(start=(T0 + timedelta(minutes=62)).isoformat(),
                                                end=(T0 + timedelta(minutes=63)).isoformat())
        assert titles(q="100%_") == []
        r = aud.get("/api/v1/bookmarks", params={"start": "2025-06-01T12:00:00"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "start"]


def create(server: Server, camera: str, role: Role, **kw: object) -> Bookmark:
    with server.client(role) as c:
        r = c.post("/api/v1/bookmarks", json=body(camera, **kw), headers=key())
    r.raise_for_status()
    return Bookmark.model_validate(r.json())


def update_body(bm: Bookmark, **kw: object) -> dict:
    return {**bm.model_dump(mode="json", include={"start", "end", "title", "notes", "tags",
                                                  "case_number", "protected"}), **kw}


def test_update_bumps_version_and_checks_if_match(server: Server, camera: str) -> None:
    bm = create(server, camera, Role.operator)
    with server.client(Role.trainer) as tr:
        r = tr.put(f"/api/v1/bookmarks/{bm.id}", json=update_body(bm, notes="plate 7ABC123",
                                                                   tags=["vehicle", "plate"]))
        assert r.status_code == 200, r.text
        new = Bookmark.model_validate(r.json())
        assert (new.version, new.notes, new.updated_by) == (2, "plate 7ABC123", "trainer")
        assert sorted(new.tags) == ["plate", "vehicle"]
        stale = tr.put(f"/api/v1/bookmarks/{bm.id}", json=update_body(bm), headers={"If-Match": "1"})
        assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
        assert tr.put("/api/v1/bookmarks/999999", json=update_body(bm)).status_code == 404


def test_protected_bookmarks_only_supervisors_change_or_delete(server: Server, camera: str) -> None:
    bm = create(server, camera, Role.operator, protected=True)
    with server.client(Role.operator) as op, server.client(Role.supervisor) as sup:
        r = op.put(f"/api/v1/bookmarks/{bm.id}", json=update_body(bm, protected=False))
        assert r.status_code == 403 and "protected" in r.json()["detail"]
        r = op.delete(f"/api/v1/bookmarks/{bm.id}")
        assert r.status_code == 403 and "protected" in r.json()["detail"]
        assert sup.put(f"/api/v1/bookmarks/{bm.id}", json=update_body(bm, title="evidence")).status_code == 200
        assert sup.delete(f"/api/v1/bookmarks/{bm.id}").status_code == 204
        assert sup.get(f"/api/v1/bookmarks/{bm.id}").status_code == 404


def test_delete_rules(server: Server, camera: str) -> None:
    mine = create(server, camera, Role.operator)
    theirs = create(server, camera, Role.trainer)
    with server.client(Role.operator) as op, server.client(Role.auditor) as aud:
        assert aud.delete(f"/api/v1/bookmarks/{mine.id}").status_code == 403
        r = op.delete(f"/api/v1/bookmarks/{theirs.id}")
        assert r.status_code == 403 and "'trainer'" in r.json()["detail"]
        assert op.delete(f"/api/v1/bookmarks/{mine.id}").status_code == 204
        assert op.delete(f"/api/v1/bookmarks/{mine.id}").status_code == 404
        assert aud.get(f"/api/v1/bookmarks/{theirs.id}").status_code == 200


def test_changes_are_published_and_audited(server: Server, camera: str) -> None:
    with server.client(Role.operator) as op:
        events = op.get("/api/v1/events", params={"last_event_id": 0, "limit": 1000}).json()
        after = max((e["id"] for e in events), default=0)
        bm = create(server, camera, Role.operator, case_number="DR-2025-7777")
        op.put(f"/api/v1/bookmarks/{bm.id}", json=update_body(bm, title="renamed")).raise_for_status()
        op.delete(f"/api/v1/bookmarks/{bm.id}").raise_for_status()
        got = [Event.model_validate(e) for e in
               op.get("/api/v1/events", params={"last_event_id": after, "limit": 1000}).json()]
    mine = [(e.type, e.data.get("title")) for e in got
            if e.type.startswith("bookmark.") and e.data.get("id") == bm.id]
    assert mine == [("bookmark.created", "Suspect vehicle"), ("bookmark.updated", "renamed"),
                    ("bookmark.deleted", None)]
    with server.client(Role.auditor) as aud:
        for action in ("bookmark.create", "bookmark.update", "bookmark.delete"):
            rows = aud.get("/api/v1/audit", params={"action": action, "limit": 20}).json()
            row = next(r for r in rows if r["target"] == f"bookmark:{bm.id}")
            assert (row["username"], row["case_number"]) == ("operator", "DR-2025-7777")
