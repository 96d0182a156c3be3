"""Live HTTP MPEG-TS test streams: solid colour + a moving white box, served in real time.

One ffmpeg feeder per stream (``-re -stream_loop -1 -c copy`` of a pre-encoded clip, so the
feeders cost ~1 % CPU each), one threaded HTTP server fanning the bytes out to any number of
viewers at ``/s/<i>.ts``. ``stop(i)`` kills the feeder and keeps viewers connected with no data
(a camera gone silent behind a gateway); ``start(i)`` brings it back. New viewers first get the
PAT/PMT and the packets since the last random-access point, like the real gateway, so a player
shows its first picture at once.

The interface (``url(i)``, ``stop(i)``, ``start(i)``, ``colour(i)``) is what the UI tests use; a
fixture backed by the real chain (sim RTSP -> gateway) can replace it.
"""
from __future__ import annotations

import logging
import os
import queue
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger("rtcc.test.streams")

TS = 188
FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


@dataclass(frozen=True)
class StreamSpec:
    colour: tuple[int, int, int]
    width: int = 320
    height: int = 180
    fps: int = 15

    @property
    def hex(self) -> str:
        r, g, b = self.colour
        return f"0x{r:02X}{g:02X}{b:02X}"


def encode_clip(spec: StreamSpec, directory: Path, seconds: int = 10) -> Path:
    """A ``seconds`` long H.264 MPEG-TS clip; cached by spec in ``directory``."""
    out = directory / f"{spec.hex}_{spec.width}x{spec.height}_{spec.fps}.ts"
    if out.exists():
        return out
    box_w, box_h = max(8, spec.width // 8), max(8, spec.height // 3)
    graph = (
        f"color=c={spec.hex}:s={spec.width}x{spec.height}:r={spec.fps}[bg];"
        f"color=c=white:s={box_w}x{box_h}:r={spec.fps}[b];"
        f"[bg][b]overlay=x='mod(n*{max(2, spec.width // 40)}\\,{spec.width - box_w})'"
        f":y={spec.height // 3}:shortest=1"
    )
    tmp = out.with_suffix(".part")
    subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", graph,
         "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
         "-profile:v", "baseline", "-g", str(spec.fps), "-pix_fmt", "yuv420p", "-f", "mpegts",
         str(tmp)],
        check=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    tmp.rename(out)
    return out


class _Feed:
    """One stream: a feeder process, its reader thread and the viewers' queues."""

    def __init__(self, index: int, clip: Path) -> None:
        self.index = index
        self.clip = clip
        self.lock = threading.Lock()
        self.viewers: list[queue.SimpleQueue[bytes | None]] = []
        self.psi: dict[int, bytes] = {}  # PID -> latest PAT/PMT packet
        self.gop: list[bytes] = []  # packets since the last random-access point
        self.proc: subprocess.Popen[bytes] | None = None
        self.reader: threading.Thread | None = None
        self.bytes_sent = 0

    def start(self) -> None:
        if self.proc is not None:
            return
        self.proc = subprocess.Popen(
            [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
             "-i", str(self.clip), "-c", "copy", "-f", "mpegts", "pipe:1"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.reader = threading.Thread(
            target=self._read, args=(self.proc,), name=f"ts-feed-{self.index}", daemon=True)
        self.reader.start()

    def stop(self) -> None:
        proc, reader = self.proc, self.reader
        self.proc = self.reader = None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        if reader is not None:
            reader.join(timeout=10)
        with self.lock:
            self.gop.clear()  # a stopped camera has no picture to offer new viewers

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        while True:
            chunk = proc.stdout.read(TS * 7)
            if not chunk:
                return
            with self.lock:
                for off in range(0, len(chunk) - TS + 1, TS):
                    self._remember(chunk[off:off + TS])
                for q in self.viewers:
                    q.put(chunk)

    def _remember(self, pkt: bytes) -> None:
        pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
        if pid == 0 or pid == 0x1000:  # PAT and ffmpeg's default PMT PID
            self.psi[pid] = pkt
            return
        has_af = pkt[3] & 0x20
        if has_af and pkt[4] > 0 and pkt[5] & 0x40:  # random_access_indicator
            self.gop = []
        if len(self.gop) < 20000:
            self.gop.append(pkt)

    def subscribe(self) -> queue.SimpleQueue[bytes | None]:
        q: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        with self.lock:
            if self.gop:
                q.put(b"".join([*self.psi.values(), *self.gop]))
            self.viewers.append(q)
        return q

    def unsubscribe(self, q: queue.SimpleQueue[bytes | None]) -> None:
        with self.lock:
            if q in self.viewers:
                self.viewers.remove(q)

    def hang_up(self) -> None:
        with self.lock:
            for q in self.viewers:
                q.put(None)


class HttpTsStreams:
    """N live streams on one HTTP server at 127.0.0.1 (free port)."""

    def __init__(self, specs: list[StreamSpec], clip_dir: Path,
                 clips: list[Path] | None = None) -> None:
        """Streams of generated clips (``specs``), or of given MPEG-TS ``clips`` (benchmarks)."""
        self.specs = list(specs)
        if clips is None:
            clips = [encode_clip(s, clip_dir) for s in self.specs]
        self._feeds = [_Feed(i, clip) for i, clip in enumerate(clips)]
        self._closing = threading.Event()
        feeds, closing = self._feeds, self._closing

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                try:
                    feed = feeds[int(name.removesuffix(".ts"))]
                except (ValueError, IndexError):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                q = feed.subscribe()
                try:
                    while not closing.is_set():
                        try:
                            chunk = q.get(timeout=0.25)
                        except queue.Empty:
                            continue
                        if chunk is None:
                            return
                        self.wfile.write(chunk)
                        feed.bytes_sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    feed.unsubscribe(q)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ts-http", daemon=True)
        self._thread.start()
        for feed in self._feeds:
            feed.start()

    def __len__(self) -> int:
        return len(self._feeds)

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.port}/s/{i}.ts"

    def colour(self, i: int) -> tuple[int, int, int]:
        return self.specs[i].colour

    def stop(self, i: int, *, hang_up: bool = False) -> None:
        """Stop stream ``i``; viewers stay connected and get no data unless ``hang_up``."""
        self._feeds[i].stop()
        if hang_up:
            self._feeds[i].hang_up()

    def start(self, i: int) -> None:
        self._feeds[i].start()

    def viewers(self, i: int) -> int:
        return len(self._feeds[i].viewers)

    def close(self) -> None:
        self._closing.set()
        for feed in self._feeds:
            feed.stop()
            feed.hang_up()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


# --- what the UI tests play ------------------------------------------------------------------

#: sub streams 0..8 (320x180, distinct colours), main streams 9, 10 (640x360, colours of 0 and 1)
SUB_COLOURS = [(220, 30, 30), (30, 200, 40), (40, 60, 230), (230, 200, 20), (200, 40, 200),
               (20, 200, 210), (240, 130, 20), (130, 60, 20), (120, 120, 120)]
MAIN_OF = {0: 9, 1: 10}


class Resolver:
    """camera id "camNN" -> stream NN % 9 (sub) or its 640x360 twin (main); records calls.
    ``overrides`` maps a camera id to a fixed URL or an exception to raise."""

    def __init__(self, streams: HttpTsStreams) -> None:
        self.streams = streams
        self.calls: list[tuple[str, str]] = []
        self.overrides: dict[str, str | Exception] = {}
        self._lock = threading.Lock()

    @staticmethod
    def index(camera_id: str) -> int:
        return int(camera_id.removeprefix("cam")) % len(SUB_COLOURS)

    def stream_index(self, camera_id: str, profile: str) -> int:
        i = self.index(camera_id)
        return MAIN_OF.get(i, i) if profile == "main" else i

    def __call__(self, camera_id: str, profile: str) -> str:
        with self._lock:
            self.calls.append((camera_id, profile))
        override = self.overrides.get(camera_id)
        if isinstance(override, Exception):
            raise override
        if override is not None:
            return override
        return self.streams.url(self.stream_index(camera_id, profile))

    def colour(self, camera_id: str) -> tuple[int, int, int]:
        return SUB_COLOURS[self.index(camera_id)]
