"""Video wall benchmark: N tiles of demo cameras (sub streams) against the floor of ffmpeg
decoding the same streams to null, measured in the same run. Prints ONE JSON line.

ttff_*: one tile at a time gets another camera while the wall plays (what an operator feels
when dropping a camera on a tile); startup_*: all N tiles opened at once on an empty wall;
switch_s: every tile changes camera at once, until all play again.

    python bench/wall.py [--tiles 16] [--seconds 20]

The backend (reference server + simulated RTSP cameras + gateway) runs as its own process
so that ``console_cpu_s`` is the console's alone. Needs an X display (``make bench`` wraps it
in xvfb-run when there is none).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password"


def log(msg: str) -> None:
    print(f"bench/wall: {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_backend(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, RTCC_DEMO_PASSWORD=PASSWORD, RTCC_DATA_DIR=str(tmp))
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "serve", "--demo", "--port", str(port),
         "--db", f"sqlite:///{tmp / 'server.sqlite'}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"backend exited with {proc.returncode}")
        try:
            if requests.get(f"{url}/openapi.json", timeout=1).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.2)  # polling a condition with a deadline
    raise SystemExit("backend did not start within 120 s")


def pump_until(cond, timeout: float) -> bool:
    """Run the Qt event loop (blocking, no busy-wait: that would count as console CPU) until
    cond() holds or the timeout passes."""
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    check = QTimer(interval=20)
    check.timeout.connect(lambda: cond() and loop.quit())
    check.start()
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    loop.exec()
    check.stop()
    return cond()


def cpu_s(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def measure_floor(urls: list[str], seconds: float) -> float:
    """ffmpeg decoding the same streams to null, CPU seconds over the same window."""
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    procs = [subprocess.Popen([ffmpeg, "-nostdin", "-loglevel", "error", "-i", u, "-f", "null", "-"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for u in urls]
    ps = [psutil.Process(p.pid) for p in procs]
    try:
        time.sleep(1.5)  # warm-up: connect and probe, as the console had before its window
        before = cpu_s(ps)
        time.sleep(seconds)
        return cpu_s(ps) - before
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    if not os.environ.get("DISPLAY"):
        raise SystemExit("bench/wall.py needs an X display (make bench runs it under xvfb-run)")
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from PySide6.QtWidgets import QApplication

    from console.api.client import BackendClient
    from console.catalog import CameraCatalog
    from console.wall import WallModel
    from ui import tasks
    from ui.app import default_layout_kind
    from ui.wall.grid import WallGrid
    from ui.wall.video import release_instance, vlc_instance

    t_start = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="rtcc-bench-"))
    backend, url = start_backend(tmp)
    try:
        app = QApplication.instance() or QApplication([])
        client = BackendClient(url)
        client.login("operator", PASSWORD)
        cameras = client.cameras()
        catalog = CameraCatalog(cameras)
        ids = [cameras[i % len(cameras)].id for i in range(args.tiles)]
        kind = default_layout_kind(args.tiles)
        model = WallModel(kind)
        opened: dict[int, float] = {}
        ttff: list[float] = []

        def watch(index: int, tile) -> None:
            def on_state(state: str) -> None:
                now = time.monotonic()
                if state == "connecting":
                    opened[index] = now
                elif state == "playing" and index in opened:
                    ttff.append((now - opened.pop(index)) * 1000)
            tile.state_changed.connect(on_state)

        # A watch floor's gateway is warm and its console has started libVLC: measure from there.
        for cid in dict.fromkeys(ids):
            with requests.get(client.stream_url(cid, "sub"), stream=True, timeout=10) as r:
                next(r.iter_content(188))
        vlc_instance()
        grid = WallGrid(model, lambda cid, prof: client.stream_url(cid, prof), catalog.get)
        for i, tile in enumerate(grid.tiles):
            watch(i, tile)
        grid.resize(1920, 1080)
        grid.show()
        pump_until(lambda: False, 0.5)  # mapped on the X server before the clock starts
        log(f"backend up after {time.monotonic() - t_start:.1f} s")
        t0 = time.monotonic()
        for i, cid in enumerate(ids):
            model.assign(i, cid)

        def all_playing() -> bool:
            return all(t.state.value == "playing" for t in grid.tiles[:args.tiles])
        if not pump_until(all_playing, 30):
            raise SystemExit("not every tile played within 30 s")
        startup_s = time.monotonic() - t0
        startup_ttff = list(ttff)

        me = psutil.Process()
        pump_until(lambda: False, 2.0)  # warm-up
        before = cpu_s([me])
        pump_until(lambda: False, args.seconds)
        console_cpu = cpu_s([me]) - before
        rss_mb = me.memory_info().rss / 2**20

        # time to first frame as an operator feels it: one tile at a time gets a new camera
        # (another camera's stream, so the tile really reopens) while the rest of the wall plays
        ttff.clear()
        for i in range(args.tiles):
            model.assign(i, ids[(i + 1) % len(ids)])
            pump_until(lambda i=i: len(ttff) > i, 10)

        single_ttff = list(ttff)
        # layout switch: every tile changes camera (reversed order), until all play again
        ttff.clear()
        target = list(reversed(ids))
        changing = sum(1 for i, cid in enumerate(target) if model.cameras[i] != cid)
        t0 = time.monotonic()
        for i, cid in enumerate(target):
            model.assign(i, cid)
        ok = pump_until(lambda: all_playing() and len(ttff) >= changing, 30)
        switch_s = time.monotonic() - t0 if ok else float("nan")

        sub_urls = [client.stream_url(cid, "sub") for cid in ids]
        grid.shutdown()
        grid.close()
        tasks.shutdown(wait=True)
        release_instance()
        log(f"console measured; switch {switch_s:.2f} s; floor next ({time.monotonic() - t_start:.1f} s)")
        floor = measure_floor(sub_urls, args.seconds)
        result = {
            "tiles": args.tiles, "seconds": args.seconds,
            "console_cpu_s": round(console_cpu, 2), "floor_cpu_s": round(floor, 2),
            "ratio": round(console_cpu / floor, 2) if floor else None,
            "ttff_p50_ms": round(statistics.median(single_ttff), 1),
            "ttff_p95_ms": round(percentile(single_ttff, 0.95), 1),
            "switch_s": round(switch_s, 3), "rss_mb": round(rss_mb, 1),
            "startup_s": round(startup_s, 3),
            "startup_ttff_p50_ms": round(statistics.median(startup_ttff), 1),
            "startup_ttff_p95_ms": round(percentile(startup_ttff, 0.95), 1),
            "console_cpu_pct": round(100 * console_cpu / args.seconds, 1),
            "floor_cpu_pct": round(100 * floor / args.seconds, 1),
        }
        print(json.dumps(result), flush=True)
        return 0
    finally:
        os.killpg(backend.pid, 15)
        backend.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
