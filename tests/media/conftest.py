"""Real simulated RTSP cameras + a real uvicorn serving only the media router."""

from __future__ import annotations

import asyncio
import http.client
import logging
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from console.logsafe import SecretMaskFilter
from console.server.media import MediaGateway, tokens
from console.server.media.router import media_router
from console.server.sim.cameras import SimCameraServer
from console.server.sim.clips import SimCameraSpec

REPO = Path(__file__).resolve().parents[2]
CLIP_CACHE = REPO / "var" / "test-clips"
CLIP_SECONDS = 4
SECRET = b"test-media-secret"
CAM_PASSWORD = "s3cretPassw0rd"  # sent to sources as rtsp://viewer:<this>@...; must never be logged
SPECS = [
    SimCameraSpec("cam01", "North Gate", "#c83232"),  # default 1280x720 / 640x360
    SimCameraSpec("cam02", "Lot B", "#32a852", main=(480, 270, 15), sub=(320, 180, 15)),
    SimCameraSpec(
        "cam03", "Dock 3", "#3264c8", main=(480, 270, 15), sub=(320, 180, 15)
    ),
]


def wait_until(
    cond: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll cond until truthy (returned) or fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def sim() -> Iterator[SimCameraServer]:
    server = SimCameraServer(SPECS, CLIP_CACHE, clip_seconds=CLIP_SECONDS)
    server.start(timeout=120)
    try:
        yield server
    finally:
        server.close()


class MediaApp:
    """uvicorn in a background thread serving the media router over one MediaGateway."""

    def __init__(self, gateway: MediaGateway, first_data_timeout: float) -> None:
        self.gateway = gateway
        self.loop: asyncio.AbstractEventLoop | None = None

        @asynccontextmanager
        async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
            self.loop = asyncio.get_running_loop()
            await gateway.start()
            yield
            await gateway.stop()

        app = FastAPI(lifespan=lifespan)
        app.include_router(
            media_router(gateway, SECRET, first_data_timeout=first_data_timeout)
        )
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_config=None, log_level="info", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        wait_until(lambda: self.server.started, 20, "uvicorn to start")

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(15)
        self._sock.close()
        assert not self._thread.is_alive(), "uvicorn thread did not stop"

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run fn in the server's event loop (the gateway is not thread-safe)."""
        assert self.loop is not None

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stats(self, key: str) -> dict[str, Any]:
        return self.call(self.gateway.stats)[key]

    def path(self, camera_id: str, profile: str, token: str | None = None) -> str:
        if token is None:
            token = tokens.issue(SECRET, camera_id, profile)
        return f"/api/v1/media/{camera_id}/{profile}.ts?token={token}"

    def url(self, camera_id: str, profile: str, token: str | None = None) -> str:
        return f"http://127.0.0.1:{self.port}{self.path(camera_id, profile, token)}"


def with_password(url: str) -> str:
    return url.replace("rtsp://", f"rtsp://viewer:{CAM_PASSWORD}@", 1)


@pytest.fixture(scope="session")
def media_app(sim: SimCameraServer) -> Iterator[MediaApp]:
    access = logging.getLogger("uvicorn.access")
    mask = SecretMaskFilter()
    access.addFilter(mask)
    gateway = MediaGateway(
        linger_s=1.0, stall_timeout=2.0, open_timeout=5.0, backoff_max=2.0
    )
    for spec in SPECS:
        for profile in ("main", "sub"):
            always_on = spec.camera_id == "cam02" and profile == "sub"
            gateway.set_source(
                spec.camera_id,
                profile,
                with_password(sim.url(spec.camera_id, profile)),
                always_on,
            )
    # A source whose camera has no such mount: ffmpeg fails with 404 (and prints the URL).
    gateway.set_source(
        "ghost",
        "main",
        with_password(sim.url("cam01", "main").replace("/cam01/", "/ghost/")),
    )
    app = MediaApp(
        gateway, first_data_timeout=8.0
    )  # cold start = RTSP setup + next keyframe (1-3.5 s here)
    app.start()
    try:
        yield app
    finally:
        app.stop()
        access.removeFilter(mask)


class HttpViewer:
    """Reads one HTTP stream in a thread, counting bytes and keeping the first ones."""

    def __init__(self, port: int, path: str, keep: int = 64 * 1024) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", path)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = dict(self.resp.getheaders())
        self.keep = keep
        self.head = bytearray()
        self.received = 0
        self.eof = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                chunk = self.resp.read1(65536)
                if not chunk:
                    break
                if len(self.head) < self.keep:
                    self.head += chunk[: self.keep - len(self.head)]
                self.received += len(chunk)
        except (OSError, http.client.HTTPException, ValueError):
            if not self._closing:
                raise
        finally:
            self.eof.set()

    def close(self) -> None:
        self._closing = True
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(10)
        self.conn.close()


@pytest.fixture
def viewers() -> Iterator[Callable[..., HttpViewer]]:
    """Factory of HttpViewers that are all closed at teardown."""
    opened: list[HttpViewer] = []

    def make(port: int, path: str, **kw: Any) -> HttpViewer:
        v = HttpViewer(port, path, **kw)
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.close()


def run_ffmpeg(
    args: list[str], timeout: float = 60, text: bool = True
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", *args],
        capture_output=True,
        text=text,
        timeout=timeout,
        check=False,
    )
