"""Recordings over HTTP: a server that records its cameras' sub streams (the simulated PTZ
camera as the source) lists the recorded ranges, hands out an audited, range-bound playback
URL only with reason + case, and that URL serves MPEG-TS with about the range's duration."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from console.model import Recordings, RecordingUrl, Role
from console.server import db
from console.server.app import create_app
from console.server.routers.cameras import CameraIn, put_camera
from console.server.runner import ServerHandle
from console.server.settings import ServerSettings
from console.server.sim.ptz import SimPtzCamera
from tests.media.test_ptz_camera import cache_dir, wait_until
from tests.media.test_recorder import decoded_frames, ffprobe
from tests.server.conftest import login_all, seed_users
from tests.server.test_cameras import camera_body

CAM = "rec-cam"
REASON = {"reason": "investigation", "case": "DR-2025-0100"}


@dataclass
class RecServer:
    handle: ServerHandle
    tokens: dict[Role, str]
    root: Path

    def client(self, role: Role | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.handle.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecServer]:
    tmp = tmp_path_factory.mktemp("rec")
    settings = ServerSettings(db_url=f"sqlite:///{tmp / 'server.db'}", port=0,
                              record_profiles=frozenset({"sub"}), record_segment_s=2.0,
                              recordings_dir=tmp / "recordings")
    seed_users(settings.db_url)
    with SimPtzCamera("recsim", cache_dir()) as cam:
        body = camera_body(CAM, ptz={})
        body["sources"] = {p: cam.url(p) for p in ("main", "sub")}
        engine = db.make_engine(settings.db_url)
        try:
            put_camera(engine, CameraIn.model_validate(body))
        finally:
            engine.dispose()
        handle = ServerHandle(create_app(settings)).start()
        try:
            yield RecServer(handle, login_all(handle.url), tmp / "recordings")
        finally:
            handle.stop()


def ranges(rec: RecServer) -> Recordings:
    with rec.client(Role.auditor) as c:
        r = c.get(f"/api/v1/cameras/{CAM}/recordings")
    r.raise_for_status()
    return Recordings.model_validate(r.json())


def recorded_for(rec: RecServer, seconds: float) -> Recordings | None:
    got = ranges(rec)
    if got.ranges and (got.ranges[-1].end - got.ranges[-1].start).total_seconds() >= seconds:
        return got
    return None


def test_recorded_ranges_and_playback(rec: RecServer, tmp_path: Path) -> None:
    got = wait_until(lambda: recorded_for(rec, 6.0), 60, "6 s of recording")
    assert len(got.ranges) == 1, got  # contiguous segments are merged
    span = got.ranges[0]
    start, end = span.start + timedelta(seconds=1), span.end - timedelta(seconds=1)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    with rec.client(Role.operator) as op:
        r = op.get(f"/api/v1/cameras/{CAM}/recordings/media", params=params)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "reason"]
        r = op.get(f"/api/v1/cameras/{CAM}/recordings/media", params={**params, **REASON})
        assert r.status_code == 200, r.text
        url = RecordingUrl.model_validate(r.json()).url
    with httpx.Client(timeout=30) as anon:  # no bearer: the token is the credential
        media = anon.get(url)
    assert media.status_code == 200 and media.headers["content-type"] == "video/mp2t"
    out = tmp_path / "range.ts"
    out.write_bytes(media.content)
    length = (end - start).total_seconds()
    duration = float(ffprobe(out)["format"]["duration"])
    assert length - 0.2 <= duration <= length + 2.2, (duration, length)
    assert decoded_frames(out) >= 15 * (length - 0.5)

    with rec.client(Role.auditor) as aud:
        row = aud.get("/api/v1/audit", params={"action": "recording.playback_url"}).json()[0]
    assert (row["username"], row["reason_code"], row["case_number"], row["target"]) == (
        "operator", "investigation", "DR-2025-0100", f"camera:{CAM}")


def test_playback_token_is_bound_to_the_range(rec: RecServer) -> None:
    span = wait_until(lambda: recorded_for(rec, 3.0), 60, "3 s of recording").ranges[0]
    with rec.client(Role.operator) as op:
        url = op.get(f"/api/v1/cameras/{CAM}/recordings/media", params={
            "start": span.start.isoformat(), "end": span.end.isoformat(), **REASON}).json()["url"]
    parts = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    with httpx.Client(base_url=f"{parts.scheme}://{parts.netloc}", timeout=30) as anon:
        wider = {**q, "end_ms": str(int(q["end_ms"]) + 60_000)}
        r = anon.get(parts.path, params=wider)
        assert r.status_code == 401 and r.json()["detail"] == "media token wrong stream"
        assert anon.get(parts.path, params={k: v for k, v in q.items() if k != "token"}).status_code == 401
        other = parts.path.replace(f"/{CAM}/", "/other-cam/")
        assert anon.get(other, params=q).status_code == 401


def test_playback_needs_permission_and_a_sane_range(rec: RecServer) -> None:
    span = wait_until(lambda: recorded_for(rec, 1.0), 60, "some recording").ranges[0]
    params = {"start": span.start.isoformat(), "end": span.end.isoformat(), **REASON}
    with rec.client(Role.auditor) as aud:
        assert aud.get(f"/api/v1/cameras/{CAM}/recordings/media", params=params).status_code == 403
    with rec.client(Role.operator) as op:
        r = op.get(f"/api/v1/cameras/{CAM}/recordings/media",
                   params={**params, "end": params["start"]})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "end"]
        early = {"start": (span.start - timedelta(days=3)).isoformat(),
                 "end": (span.start - timedelta(days=3) + timedelta(hours=1)).isoformat(), **REASON}
        r = op.get(f"/api/v1/cameras/{CAM}/recordings/media", params=early)
        assert r.status_code == 404 and "no sub recording" in r.json()["detail"]
        assert op.get(f"/api/v1/cameras/nope-{uuid.uuid4().hex[:4]}/recordings").status_code == 404
