"""One camera stream pulled by ONE ffmpeg (-c copy to MPEG-TS) and fanned out to viewers.

A GOP cache (latest PAT, PMT and every packet since the last keyframe) lets a new viewer start
decoding at once. On upstream loss the viewers are HELD: their responses stay open with no data,
as a camera that stalls would look, so a player keeps its last picture and its own watchdog
notices the stall. Once the reconnected upstream has a keyframe, held viewers are ended (a
timestamp jump inside one HTTP response confuses libVLC; a fresh response does not) and come
back as new viewers starting at that keyframe.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from console.logsafe import mask_text, mask_url, url_secrets
from console.server.media import tsparse
from console.server.media.tsparse import PACKET, SYNC

log = logging.getLogger("rtcc.media")

READ_SIZE = 64 * 1024


@dataclass
class UpstreamCounters:
    """Per-stream counters that outlive any one Upstream instance (reported by stats())."""

    starts: int = 0
    bytes_in: int = 0
    last_keyframe_at: float | None = None  # time.monotonic()


class Subscriber:
    """One viewer's bounded byte queue. A viewer that falls max_bytes behind is dropped."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.primed = (
            False  # has received PAT+PMT+keyframe; only then live packets follow
        )
        self.held = False  # primed on an upstream session that has since been lost
        self.end_reason: str | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._wake = asyncio.Event()

    @property
    def ended(self) -> bool:
        return self.end_reason is not None

    @property
    def has_data(self) -> bool:
        return bool(self._chunks)

    def offer(self, chunk: bytes) -> bool:
        """Queue chunk; False (nothing queued) when the viewer is too far behind."""
        if self._queued + len(chunk) > self.max_bytes:
            return False
        self._chunks.append(chunk)
        self._queued += len(chunk)
        self._wake.set()
        return True

    def end(self, reason: str, *, discard: bool = False) -> None:
        if self.end_reason is None:
            self.end_reason = reason
        if discard:
            self._chunks.clear()
            self._queued = 0
        self._wake.set()

    async def wait_ready(self) -> None:
        """Return once data is queued or the stream ended."""
        while not self._chunks and not self.ended:
            self._wake.clear()
            await self._wake.wait()

    async def next(self) -> bytes:
        """Next chunk; StopAsyncIteration once ended and drained."""
        while not self._chunks:
            if self.ended:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        chunk = self._chunks.popleft()
        self._queued -= len(chunk)
        return chunk


class Upstream:
    """Runs ffmpeg for one source URL while started; reconnects with backoff on loss."""

    def __init__(
        self,
        source_url: str,
        key: str,
        *,
        ffmpeg: str = "ffmpeg",
        counters: UpstreamCounters | None = None,
        on_idle: Callable[[], None] | None = None,
        stall_timeout: float = 2.0,
        open_timeout: float = 10.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        backoff_max_watched: float = 1.0,
        healthy_after: float = 10.0,
        gop_cache_bytes: int = 8 * 1024 * 1024,
        viewer_queue_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.source_url = source_url
        self.key = key
        self.ffmpeg = ffmpeg
        self.counters = counters or UpstreamCounters()
        self.on_idle = on_idle
        self.stall_timeout = stall_timeout
        self.open_timeout = open_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff_max_watched = backoff_max_watched
        self.healthy_after = healthy_after
        self.gop_cache_bytes = gop_cache_bytes
        self.viewer_queue_bytes = viewer_queue_bytes
        self._safe_url = mask_url(source_url)
        self._secrets = url_secrets(source_url)
        self._subs: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._reset_stream_state()

    # -- public ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """An ffmpeg process is alive right now."""
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def viewers(self) -> int:
        return len(self._subs)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"upstream {self.key}"
            )

    async def stop(self) -> None:
        """Kill ffmpeg, end all viewers; idempotent."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        # Cancelled inside its own clean-up, a session may leave ffmpeg unreaped: reap it now,
        # while the loop runs, or its transport is finalized after the loop has closed.
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await proc.wait()
        self._end_all("stopped")

    def subscribe(self) -> Subscriber:
        sub = Subscriber(self.viewer_queue_bytes)
        if self._gop is not None and self._pat is not None and self._pmt is not None:
            sub.offer(b"".join((self._pat, self._pmt, *self._gop)))
            sub.primed = True
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        sub.end("unsubscribed", discard=True)
        if sub in self._subs:
            self._subs.discard(sub)
            self._notify_if_idle()

    # -- ffmpeg session ----------------------------------------------------------------------
    def command(self) -> list[str]:
        cmd = [self.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
        if self.source_url.lower().startswith(("rtsp://", "rtsps://")):
            cmd += [
                "-rtsp_transport",
                "tcp",
                "-timeout",
                str(int(self.open_timeout * 1_000_000)),
            ]
        cmd += [
            "-fflags", "nobuffer", "-analyzeduration", "0", "-probesize", "32768",
            "-i", self.source_url,
            "-map", "0:v:0", "-c", "copy",
            "-f", "mpegts", "-flush_packets", "1", "pipe:1",
        ]  # fmt: skip
        return cmd

    async def _run(self) -> None:
        backoff = self.backoff_initial
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            first_data = await self._session()
            self._hold_viewers()
            healthy = (
                first_data is not None
                and loop.time() - first_data >= self.healthy_after
            )
            if healthy:
                backoff = self.backoff_initial
            log.warning(
                "upstream %s (%s) lost after %.1f s; reconnecting in %.1f s",
                self.key, self._safe_url, loop.time() - started, backoff,
            )  # fmt: skip
            await asyncio.sleep(backoff)
            # Someone is waiting for this camera: keep retrying often enough that the picture
            # is back within ~2 s of the camera; with nobody watching, back off further.
            cap = self.backoff_max_watched if self._subs else self.backoff_max
            backoff = min(backoff * 2, cap)

    async def _session(self) -> float | None:
        """Run ffmpeg until it ends or stalls; return the loop time of its first byte (or None)."""
        self._reset_stream_state()
        loop = asyncio.get_running_loop()
        log.info("upstream %s: starting ffmpeg for %s", self.key, self._safe_url)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            log.error("upstream %s: cannot run %s: %s", self.key, self.ffmpeg, exc)
            return None
        spawned = loop.time()
        self._proc = proc
        self.counters.starts += 1
        assert proc.stdout is not None and proc.stderr is not None
        stderr_task = loop.create_task(self._pump_stderr(proc.stderr))
        first_data: float | None = None
        try:
            while True:
                timeout = (
                    self.open_timeout if first_data is None else self.stall_timeout
                )
                try:
                    data = await asyncio.wait_for(proc.stdout.read(READ_SIZE), timeout)
                except TimeoutError:
                    log.warning(
                        "upstream %s: no data for %.1f s; killing ffmpeg",
                        self.key,
                        timeout,
                    )
                    break
                if not data:
                    break
                if first_data is None:
                    first_data = loop.time()
                    log.info(
                        "upstream %s: first data after %.2f s",
                        self.key,
                        first_data - spawned,
                    )
                self.counters.bytes_in += len(data)
                self._feed(data)
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
            try:
                await asyncio.wait_for(stderr_task, 1.0)
            except (TimeoutError, asyncio.CancelledError):
                stderr_task.cancel()
            self._proc = None
            self._reset_stream_state()  # a viewer arriving during backoff must not get a stale GOP
            log.info("upstream %s: ffmpeg exited with %s", self.key, proc.returncode)
        return first_data

    async def _pump_stderr(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                log.warning("ffmpeg %s: %s", self.key, mask_text(line, *self._secrets))

    # -- MPEG-TS handling --------------------------------------------------------------------
    def _reset_stream_state(self) -> None:
        self._pending = b""
        self._program = tsparse.ProgramInfo()
        self._pat: bytes | None = None
        self._pmt: bytes | None = None
        self._gop: list[bytes] | None = None  # None until a keyframe is seen
        self._gop_bytes = 0

    def _feed(self, data: bytes) -> None:
        buf = self._pending + data
        while len(buf) >= PACKET:
            if buf[0] != SYNC:
                start = tsparse.find_sync(buf)
                if start < 0:
                    buf = buf[-(PACKET - 1) :]
                    break
                log.warning(
                    "upstream %s: MPEG-TS resync, skipped %d bytes", self.key, start
                )
                buf = buf[start:]
                continue
            end = self._aligned_end(buf)
            self._handle_chunk(buf[:end])
            buf = buf[end:]
        self._pending = buf

    @staticmethod
    def _aligned_end(buf: bytes) -> int:
        """Length of the run of whole, in-sync packets at the start of buf."""
        end = len(buf) - len(buf) % PACKET
        for off in range(PACKET, end, PACKET):
            if buf[off] != SYNC:
                return off
        return end

    def _handle_chunk(self, chunk: bytes) -> None:
        key_at: int | None = None
        view = memoryview(chunk)
        program = self._program
        for off in range(0, len(chunk), PACKET):
            pkt = view[off : off + PACKET]
            pid = tsparse.pid(pkt)
            if pid == program.video_pid:
                if tsparse.keyframe_at(view, off, pid):
                    key_at = off
            elif pid == tsparse.PAT_PID or pid in program.pmt_pids:
                kind = program.update(pkt)
                if kind == "pat":
                    self._pat = bytes(pkt)
                elif kind == "pmt":
                    self._pmt = bytes(pkt)
        if key_at is not None:
            self.counters.last_keyframe_at = time.monotonic()
            tail = chunk[key_at:]
            self._gop, self._gop_bytes = [tail], len(tail)
        elif self._gop is not None:
            self._gop.append(chunk)
            self._gop_bytes += len(chunk)
            if self._gop_bytes > self.gop_cache_bytes:
                self._gop = None  # GOP too long to cache; wait for the next keyframe
        self._fan_out(chunk, key_at)

    def _hold_viewers(self) -> None:
        for sub in self._subs:
            if sub.primed:
                sub.held = True

    def _fan_out(self, chunk: bytes, key_at: int | None) -> None:
        dropped, restarted = [], []
        for sub in self._subs:
            if sub.held:
                if key_at is not None:  # the new session is decodable: send them round again
                    restarted.append(sub)
                continue
            if sub.primed:
                ok = sub.offer(chunk)
            elif key_at is not None and self._pat is not None and self._pmt is not None:
                ok = sub.offer(self._pat + self._pmt + chunk[key_at:])
                sub.primed = True
            else:
                continue
            if not ok:
                dropped.append(sub)
        for sub in restarted:
            sub.end("upstream restarted")
            self._subs.discard(sub)
        for sub in dropped:
            log.warning(
                "upstream %s: dropping a viewer %d bytes behind",
                self.key,
                sub.max_bytes,
            )
            sub.end("too slow", discard=True)
            self._subs.discard(sub)
        if dropped or restarted:
            self._notify_if_idle()

    def _end_all(self, reason: str) -> None:
        subs, self._subs = self._subs, set()
        for sub in subs:
            sub.end(reason)
        if subs:
            self._notify_if_idle()

    def _notify_if_idle(self) -> None:
        if not self._subs and self.on_idle is not None:
            self.on_idle()
