"""Reference-server benchmark, per database backend. Prints ONE JSON line:

    {"sqlite": {"reads_per_s", "bookmark_p99_ms", "fanout_p99_ms", ...},
     "postgresql": {...} or {"available": false, "reason": "..."}}

    python bench/server.py [--backends sqlite,postgresql]

For each backend a real server runs as its own process (``python -m console.cli serve``)
on a fresh database (a temp SQLite file; PostgreSQL: a throwaway cluster started like the
test suite's, ``tests/support/postgres.py``; it runs with fsync off):

* ``reads_per_s``: ALPR ingest, ``POST /api/v1/alpr/reads`` in batches of 1,000 from
  ``--clients`` concurrent connections, with an active hotlist of 10,000 entries (so
  matching is included; one read per batch is on the list and makes a hit).
* ``bookmark_p99_ms``: ``POST /api/v1/bookmarks`` with an ``Idempotency-Key``, one at a time.
* ``fanout_p99_ms``: 50 SSE clients on ``GET /api/v1/events``; one hit at a time is
  published; latency = receipt at each client - the event's ``created_at`` (same clock).

Targets (issue 3): >= 20,000 reads/s; bookmark p99 <= 20 ms; fan-out p99 <= 100 ms.
Progress goes to stderr; each backend finishes within ~50 s.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.model import Role
from console.server import auth, db

PASSWORD = "bench-Pass-1234"
CAMERA_ID = "bench-cam"
HOTLIST_SIZE = 10_000
BATCH = 1000
SSE_CLIENTS = 50


def log(msg: str) -> None:
    print(f"bench/server: {msg}", file=sys.stderr, flush=True)


def p99(values: list[float]) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(0.99 * (len(v) - 1)))]


# --- server process ---------------------------------------------------------------------------

def seed(db_url: str) -> None:
    from console.model import StreamInfo
    from console.server.routers.cameras import CameraIn, put_camera

    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        auth.put_user(engine, "admin", Role.admin, PASSWORD, "Bench admin")
        put_camera(engine, CameraIn(
            id=CAMERA_ID, name="Bench camera", owner_agency="bench", lat=34.05, lon=-118.24,
            streams=[StreamInfo(profile="sub", width=640, height=360, fps=15)],
            sources={"sub": "rtsp://127.0.0.1:9/never-pulled"}))
    finally:
        engine.dispose()


class ServerProcess:
    """``python -m console.cli serve --port 0`` in its own process group."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "serve", "--port", "0", "--db", self.db_url],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True)
        found: list[str] = []
        reader = threading.Thread(target=self._read_url, args=(found,), daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            self.stop()
            raise RuntimeError(f"server did not report its URL within {timeout:.0f} s")
        self.url = found[0]
        return self

    def _read_url(self, found: list[str]) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        for line in out:
            if line.startswith("server: "):
                found.append(line.split()[1])
                break
        # keep draining so the server never blocks on a full pipe
        threading.Thread(target=lambda: [None for _ in out], daemon=True).start()

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None


# --- measurements -----------------------------------------------------------------------------

def random_plate(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_uppercase + string.digits, k=7))


def make_hotlist(c: httpx.Client, rng: random.Random) -> list[str]:
    plates = sorted({random_plate(rng) for _ in range(HOTLIST_SIZE + 100)})[:HOTLIST_SIZE]
    r = c.post("/api/v1/alpr/hotlists", json={"name": "bench", "source_format": "csv"})
    r.raise_for_status()
    text = "plate,state,list_type,reason\n" + "".join(f"{p},CA,V,bench\n" for p in plates)
    r = c.post(f"/api/v1/alpr/hotlists/{r.json()['id']}/import", content=text, timeout=60)
    r.raise_for_status()
    if r.json()["imported"] != HOTLIST_SIZE:
        raise RuntimeError(f"hotlist import: {r.json()['imported']} entries")
    return plates


def read_batches(count: int, hot: list[str], rng: random.Random) -> list[bytes]:
    now = datetime.now(UTC).isoformat()
    out = []
    for b in range(count):
        reads = [{"device_id": f"bench-{j % 20}", "plate": f"R{b:03d}{j:04d}" if j else
                  rng.choice(hot), "state": "CA", "confidence": 0.9, "read_at": now,
                  "lat": 34.05 + j * 1e-5, "lon": -118.24} for j in range(BATCH)]
        out.append(json.dumps({"reads": reads}).encode())
    return out


def measure_ingest(url: str, headers: dict[str, str], hot: list[str], clients: int,
                   budget_s: float) -> tuple[float, int]:
    """Reads/s over as many batches as fit in ``budget_s`` (at most 200)."""
    rng = random.Random(2)
    bodies = read_batches(200, hot, rng)
    h = {**headers, "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=h, timeout=60) as c:  # warm-up: index build
        c.post("/api/v1/alpr/reads", content=bodies[0]).raise_for_status()
    lock = threading.Lock()
    queue = list(bodies[1:])
    done = [0]
    deadline = time.monotonic() + budget_s

    def worker() -> None:
        with httpx.Client(base_url=url, headers=h, timeout=60) as c:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                r = c.post("/api/v1/alpr/reads", content=body)
                r.raise_for_status()
                if len(r.json()["hit_ids"]) != 1:
                    raise RuntimeError(f"expected 1 hit per batch, got {r.json()['hit_ids']}")
                with lock:
                    done[0] += 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for f in [pool.submit(worker) for _ in range(clients)]:
            f.result()
    elapsed = time.perf_counter() - t0
    return done[0] * BATCH / elapsed, done[0]


def measure_bookmarks(c: httpx.Client, count: int,
                      budget_s: float) -> tuple[float | None, str | None]:
    """p99 of up to ``count`` creates (fewer if ``budget_s`` runs out)."""
    now = datetime.now(UTC).isoformat()
    times: list[float] = []
    deadline = time.monotonic() + budget_s
    for i in range(count):
        if time.monotonic() > deadline and len(times) >= 50:
            break
        body = {"camera_id": CAMERA_ID, "start": now, "end": now, "title": f"bench {i}",
                "notes": "", "tags": ["bench"], "case_number": "BENCH-0001",
                "protected": False}
        t = time.perf_counter()
        r = c.post("/api/v1/bookmarks", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        times.append((time.perf_counter() - t) * 1000)
        if r.status_code in (404, 405):
            return None, f"POST /api/v1/bookmarks answered {r.status_code}: not available"
        if r.status_code != 201:
            return None, f"POST /api/v1/bookmarks answered {r.status_code}: {r.text[:200]}"
    return p99(times[5:]), None  # the first few warm up connection and caches


async def _fanout(url: str, token: str, hot_plate: str, rounds: int) -> list[float]:
    latencies: list[float] = []
    ready = 0
    all_ready = asyncio.Event()
    seen: dict[int, int] = {}
    waiters: dict[int, asyncio.Event] = {}
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal ready
        async with http.stream("GET", "/api/v1/events", headers=headers) as resp:
            resp.raise_for_status()
            data = None
            async for line in resp.aiter_lines():
                if line.startswith(": connected"):
                    ready += 1
                    if ready == SSE_CLIENTS:
                        all_ready.set()
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and data is not None:
                    now = time.time()
                    ev = json.loads(data)
                    data = None
                    if ev["type"] != "alpr.hit":
                        continue
                    created = datetime.fromisoformat(ev["created_at"]).timestamp()
                    latencies.append((now - created) * 1000)
                    hit_id = ev["data"]["id"]
                    seen[hit_id] = seen.get(hit_id, 0) + 1
                    if seen[hit_id] == SSE_CLIENTS and hit_id in waiters:
                        waiters[hit_id].set()

    limits = httpx.Limits(max_connections=SSE_CLIENTS + 5)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30, read=None),
                                 limits=limits) as http, \
            httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                              timeout=30) as poster:
        tasks = [asyncio.create_task(client(http)) for _ in range(SSE_CLIENTS)]
        await asyncio.wait_for(all_ready.wait(), 20)
        for i in range(rounds):
            read = {"device_id": "bench-fanout", "plate": hot_plate, "state": "CA",
                    "confidence": 0.9, "read_at": datetime.now(UTC).isoformat(),
                    "lat": 34.05, "lon": -118.24}
            r = await poster.post("/api/v1/alpr/reads", json={"reads": [read]})
            r.raise_for_status()
            (hit_id,) = r.json()["hit_ids"]
            w = waiters.setdefault(hit_id, asyncio.Event())
            if seen.get(hit_id) == SSE_CLIENTS:
                w.set()
            await asyncio.wait_for(w.wait(), 10)
            await asyncio.sleep(0.02 + 0.03 * (i % 3))  # spread rounds over the pump's cycle
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


# --- per backend ------------------------------------------------------------------------------

def run_backend(db_url: str, clients: int) -> dict[str, Any]:
    t_start = time.monotonic()
    seed(db_url)
    server = ServerProcess(db_url).start()
    try:
        log(f"server at {server.url} after {time.monotonic() - t_start:.1f} s")
        r = httpx.post(f"{server.url}/api/v1/auth/login",
                       json={"username": "admin", "password": PASSWORD}, timeout=30)
        r.raise_for_status()
        token = r.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(1)
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
            hot = make_hotlist(c, rng)
            log(f"hotlist of {len(hot)} entries imported at {time.monotonic() - t_start:.1f} s")
            reads_per_s, batches = measure_ingest(server.url, headers, hot, clients, 8.0)
            log(f"ingest: {reads_per_s:,.0f} reads/s over {batches} batches")
            bookmark_p99, bookmark_error = measure_bookmarks(c, 205, 8.0)
            log(f"bookmarks: p99 {bookmark_p99} ms {bookmark_error or ''}")
        latencies = asyncio.run(_fanout(server.url, token, hot[0], 20))
        log(f"fan-out: {len(latencies)} deliveries, p99 {p99(latencies):.1f} ms")
    finally:
        server.stop()
    out: dict[str, Any] = {
        "available": True,
        "reads_per_s": round(reads_per_s),
        "bookmark_p99_ms": round(bookmark_p99, 2) if bookmark_p99 is not None else None,
        "fanout_p99_ms": round(p99(latencies), 2),
        "ingest_batches": batches, "ingest_clients": clients, "hotlist_entries": len(hot),
        "fanout_clients": SSE_CLIENTS, "fanout_samples": len(latencies),
        "seconds": round(time.monotonic() - t_start, 1),
    }
    if bookmark_error:
        out["bookmark_error"] = bookmark_error
    return out


def sqlite_backend(clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-") as tmp:
        return run_backend(f"sqlite:///{tmp}/bench.db", clients)


def postgresql_backend(clients: int) -> dict[str, Any]:
    from tests.support.postgres import PostgresCluster, PostgresUnavailable

    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        return {"available": False, "reason": f"psycopg not installed: {exc}"}
    cluster = PostgresCluster()
    try:
        try:
            cluster.start()
            url = cluster.create_database("bench")
        except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
            return {"available": False, "reason": str(exc)}
        result = run_backend(url, clients)
        result["note"] = "throwaway cluster with fsync=off, synchronous_commit=off"
        return result
    finally:
        cluster.stop()


BACKENDS: dict[str, Callable[[int], dict[str, Any]]] = {
    "sqlite": sqlite_backend, "postgresql": postgresql_backend}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="sqlite,postgresql",
                    help="comma-separated: sqlite, postgresql")
    ap.add_argument("--clients", type=int, default=4, help="concurrent ingest connections")
    args = ap.parse_args(argv)
    names = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in names if b not in BACKENDS]
    if unknown or not names:
        ap.error(f"--backends: unknown {unknown or names}; choose from {', '.join(BACKENDS)}")
    result: dict[str, Any] = {}
    for name in names:
        log(f"--- {name}")
        try:
            result[name] = BACKENDS[name](args.clients)
        except Exception as exc:  # noqa: BLE001 - report, never skip silently
            log(f"{name} failed: {exc!r}")
            result[name] = {"available": True, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result), flush=True)  # the one protocol line
    return 0 if all("error" not in r for r in result.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
