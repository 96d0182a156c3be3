"""Cameras over HTTP: CRUD feeds the gateway, stream URLs carry tokens only for media.view
roles, and a source URL's credentials never leave the server (responses or logs)."""
from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from console.model import Camera, Role, StreamUrl
from console.server.media.tokens import TokenError, verify
from tests.server.conftest import Server

SECRET_PW = "Sup3r-Secret-Pw"


def camera_body(cam_id: str, *, profiles: tuple[str, ...] = ("main", "sub"), **kw: object) -> dict:
    sizes = {"main": (1280, 720), "sub": (640, 360)}
    return {
        "id": cam_id, "name": f"Camera {cam_id}", "owner_agency": "LAPD", "division": 6,
        "division_name": "Hollywood", "lat": 34.0957, "lon": -118.3309, "heading_deg": 90,
        "fov_deg": 60, "range_m": 100, "ptz": {"pan_tilt": True, "zoom": True},
        "streams": [{"profile": p, "width": sizes[p][0], "height": sizes[p][1], "fps": 15}
                    for p in profiles],
        "sources": {p: f"rtsp://viewer:{SECRET_PW}@127.0.0.1:9/{cam_id}/{p}" for p in profiles},
        **kw,
    }


@pytest.fixture
def cam_id() -> str:
    return f"cam-{uuid.uuid4().hex[:8]}"


def gateway_sources(server: Server) -> dict[str, dict]:
    return server.handle.app.state.gateway.stats()


def test_camera_crud_updates_gateway_and_urls(server: Server, cam_id: str) -> None:
    with server.client("admin") as c:
        r = c.post("/api/v1/cameras", json=camera_body(cam_id))
        assert r.status_code == 201, r.text
        cam = Camera.model_validate(r.json())
        assert [s.profile for s in cam.streams] == ["main", "sub"] and cam.ptz.zoom
        assert {f"{cam_id}/main", f"{cam_id}/sub"} <= set(gateway_sources(server))

        listed = {x["id"]: Camera.model_validate(x) for x in c.get("/api/v1/cameras").json()}
        assert listed[cam_id].name == f"Camera {cam_id}"
        assert c.post("/api/v1/cameras", json=camera_body(cam_id)).status_code == 409

        # replace: only the sub stream remains, with a new name
        r = c.put(f"/api/v1/cameras/{cam_id}",
                  json=camera_body(cam_id, profiles=("sub",), name="Renamed"))
        assert r.status_code == 200, r.text
        got = Camera.model_validate(c.get(f"/api/v1/cameras/{cam_id}").json())
        assert got.name == "Renamed" and [s.profile for s in got.streams] == ["sub"]
        assert f"{cam_id}/main" not in gateway_sources(server)
        assert f"{cam_id}/sub" in gateway_sources(server)
        assert c.get(f"/api/v1/cameras/{cam_id}/streams/main").status_code == 404

        sub_url = c.get(f"/api/v1/cameras/{cam_id}/streams/sub").json()["url"]
        assert c.delete(f"/api/v1/cameras/{cam_id}").status_code == 204
        assert c.get(f"/api/v1/cameras/{cam_id}").status_code == 404
        assert c.delete(f"/api/v1/cameras/{cam_id}").status_code == 404
        assert not any(k.startswith(f"{cam_id}/") for k in gateway_sources(server))
    # the token is still valid, but the gateway no longer knows the stream
    import httpx
    assert httpx.get(sub_url, timeout=10).status_code == 404


def test_put_with_other_id_names_the_field(server: Server, cam_id: str) -> None:
    with server.client("admin") as c:
        c.post("/api/v1/cameras", json=camera_body(cam_id))
        r = c.put(f"/api/v1/cameras/{cam_id}", json=camera_body("other"))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "id"]
        c.delete(f"/api/v1/cameras/{cam_id}")


@pytest.mark.parametrize("role", [Role.operator, Role.supervisor, Role.trainer, Role.admin])
def test_stream_url_token_for_media_roles(server: Server, cam_id: str, role: Role) -> None:
    with server.client("admin") as c:
        c.post("/api/v1/cameras", json=camera_body(cam_id))
    with server.client(role) as c:
        r = c.get(f"/api/v1/cameras/{cam_id}/streams/main")
        assert r.status_code == 200
        su = StreamUrl.model_validate(r.json())
        listed = c.get(f"/api/v1/cameras/{cam_id}").json()
    url = urlsplit(su.url)
    assert su.url.startswith(f"{server.url}/api/v1/media/{cam_id}/main.ts?token=")
    assert url.username is None and SECRET_PW not in su.url and "viewer" not in su.url
    token = parse_qs(url.query)["token"][0]
    verify(server.settings.media_secret, token, cam_id, "main")  # raises if not valid
    with pytest.raises(TokenError):
        verify(server.settings.media_secret, token, cam_id, "sub")
    ttl = server.settings.stream_token_ttl_s
    assert 0 < (su.expires_at - datetime.now(UTC)).total_seconds() <= ttl
    assert [s["url"].split("?")[0] for s in listed["streams"]] == [
        f"{server.url}/api/v1/media/{cam_id}/main.ts", f"{server.url}/api/v1/media/{cam_id}/sub.ts"]


def test_auditor_sees_cameras_without_urls(server: Server, cam_id: str) -> None:
    with server.client("admin") as c:
        c.post("/api/v1/cameras", json=camera_body(cam_id))
    with server.client(Role.auditor) as c:
        cams = {x["id"]: x for x in c.get("/api/v1/cameras").json()}
        assert [s["url"] for s in cams[cam_id]["streams"]] == ["", ""]
        assert [s["url"] for s in c.get(f"/api/v1/cameras/{cam_id}").json()["streams"]] == ["", ""]
        assert c.get(f"/api/v1/cameras/{cam_id}/streams/main").status_code == 403


def test_media_route_refuses_missing_and_foreign_tokens(server: Server, cam_id: str) -> None:
    import httpx
    with server.client("admin") as c:
        c.post("/api/v1/cameras", json=camera_body(cam_id))
        other = c.get(f"/api/v1/cameras/{cam_id}/streams/sub").json()["url"]
    token = parse_qs(urlsplit(other).query)["token"][0]
    assert httpx.get(f"{server.url}/api/v1/media/{cam_id}/main.ts", timeout=10).status_code == 401
    assert httpx.get(f"{server.url}/api/v1/media/{cam_id}/main.ts?token={token}",
                     timeout=10).status_code == 401


def test_source_password_never_in_responses_or_logs(
        server: Server, cam_id: str, caplog: pytest.LogCaptureFixture) -> None:
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG), server.client("admin") as c:
        texts.append(c.post("/api/v1/cameras", json=camera_body(cam_id)).text)
        texts.append(c.put(f"/api/v1/cameras/{cam_id}", json=camera_body(cam_id)).text)
        texts.append(c.get("/api/v1/cameras").text)
        texts.append(c.get(f"/api/v1/cameras/{cam_id}").text)
        texts.append(c.get(f"/api/v1/cameras/{cam_id}/streams/main").text)
        texts.append(c.get("/openapi.json").text)
        # invalid bodies that carry the password must not echo it either
        bad = camera_body(cam_id, lat=123)
        texts.append(c.put(f"/api/v1/cameras/{cam_id}", json=bad).text)
        bad = camera_body(cam_id)
        bad["sources"]["main"] = f"ftp://u:{SECRET_PW}@127.0.0.1/x"
        texts.append(c.put(f"/api/v1/cameras/{cam_id}", json=bad).text)
        texts.append(c.put(f"/api/v1/cameras/{cam_id}", json={"sources": bad["sources"]}).text)
    assert all(SECRET_PW not in t for t in texts), [t for t in texts if SECRET_PW in t]
    assert SECRET_PW not in caplog.text
    assert f"{cam_id}/main source rtsp://***@127.0.0.1:9/" in caplog.text  # logged, masked


@pytest.mark.parametrize("change,loc", [
    ({"lat": 123}, ["body", "lat"]),
    ({"id": "has space"}, ["body", "id"]),
    ({"heading_deg": 360}, ["body", "heading_deg"]),
    ({"sources": {"main": "ftp://127.0.0.1/x", "sub": "rtsp://127.0.0.1/y"}}, ["body", "sources"]),
    ({"sources": {"main": "rtsp://127.0.0.1/x"}}, ["body", "sources"]),
    ({"sources": {"main": "rtsp://h/x", "sub": "rtsp://h/y", "extra": "rtsp://h/z"}},
     ["body", "sources", "extra", "[key]"]),
    ({"streams": [{"profile": "main", "width": 0, "height": 1, "fps": 1}]},
     ["body", "streams", 0, "width"]),
])
def test_camera_validation_names_the_field(server: Server, cam_id: str, change: dict,
                                          loc: list) -> None:
    with server.client("admin") as c:
        r = c.post("/api/v1/cameras", json=camera_body(cam_id) | change)
    assert r.status_code == 422, r.text
    assert loc in [e["loc"] for e in r.json()["detail"]], r.json()
