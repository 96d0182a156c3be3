"""DemoWorld (simulated RTSP cameras -> gateway -> HTTP) and the `serve` entry point."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from console import config
from console.server.demo_world import DemoWorld
from console.server.sim.ptz import DEMO_PTZ_ID

ROOT = Path(__file__).resolve().parents[2]


def _login(url: str, user: str, password: str) -> dict[str, str]:
    r = httpx.post(f"{url}/api/v1/auth/login", json={"username": user, "password": password},
                   timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.slow
def test_demo_world_serves_video_and_reseeds_idempotently(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/demo.db"
    world = DemoWorld()
    try:
        world.start(config.cache_dir(), password="first-pass-1", db_url=db_url, camera_count=2)
        h = _login(world.server_url, "operator", "first-pass-1")
        cams = httpx.get(f"{world.server_url}/api/v1/cameras", headers=h, timeout=10).json()
        ids = [c["id"] for c in world.cameras] + [DEMO_PTZ_ID]  # the live world adds its PTZ camera
        assert [c["id"] for c in cams] == sorted(ids)
        layouts = httpx.get(f"{world.server_url}/api/v1/stations/demo-1/layouts", headers=h,
                            timeout=10).json()
        assert [(x["kind"], len(x["cells"])) for x in layouts] == [("2x2", 2)]
        stats = world.handle.app.state.gateway.stats()
        assert {k: v["always_on"] for k, v in stats.items()} == {
            f"{cid}/{p}": p == "sub" for cid in ids for p in ("main", "sub")}
        assert len(world.feeds) == 2, "ALPR reads and scripted alerts run in the live world"
        sub_url = next(s["url"] for s in cams[0]["streams"] if s["profile"] == "sub")
        with httpx.stream("GET", sub_url, timeout=20) as r:
            assert r.status_code == 200 and r.headers["content-type"] == "video/mp2t"
            data = b""
            for chunk in r.iter_bytes():
                data += chunk
                if len(data) >= 188 * 50:
                    break
        assert data[0] == 0x47 and data[188] == 0x47  # MPEG-TS sync bytes
        sim_pid, ptz_pid = world.sim.pid, world.ptz_sim.pid
    finally:
        world.stop()
    for pid in (sim_pid, ptz_pid):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

    again = DemoWorld()
    try:
        again.start(config.cache_dir(), password="second-pass-2", db_url=db_url, camera_count=2)
        h = _login(again.server_url, "admin", "second-pass-2")
        layouts = httpx.get(f"{again.server_url}/api/v1/stations/demo-1/layouts", headers=h,
                            timeout=10).json()
        assert len(layouts) == 1
        r = httpx.post(f"{again.server_url}/api/v1/auth/login",
                       json={"username": "admin", "password": "first-pass-1"}, timeout=10)
        assert r.status_code == 401
    finally:
        again.stop()


def test_serve_runs_until_sigterm_and_bootstraps_admin(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from console.server.serve import serve_main; "
            f"sys.exit(serve_main('127.0.0.1', 0, 'sqlite:///{tmp_path}/s.db', False, Path('.')))")
    env = {**os.environ, "RTCC_ADMIN_PASSWORD": "boot-pass-123"}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("server: http://127.0.0.1:"), line
        url = line.split()[1]
        _login(url, "admin", "boot-pass-123")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
