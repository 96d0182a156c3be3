"""Records gateway streams into ~10 s MPEG-TS segment files, indexed in the database.

``Recorder`` subscribes to the gateway like a viewer (so recorded streams stay pulled),
cuts the bytes into segments at keyframes (``SegmentWriter``: each file starts with PAT,
PMT and a keyframe, so it plays on its own and segments concatenate), and indexes every
closed segment (camera, profile, start, end, path, bytes, keyframe offsets) in the
``recordings`` table. Retention deletes segments older than ``max_age_s`` and the oldest
ones while the total exceeds ``max_bytes``.

Segment times come from the video PTS (exact durations), anchored to the wall clock when
a subscription starts and re-anchored if the two drift apart by more than ``REANCHOR_S``
(PTS wrap, camera restarts). Runs in the server's event loop (the gateway is loop-bound);
database work goes to a thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, delete, func, insert, select

from console.server.media import tsparse
from console.server.media.gateway import MediaGateway, StreamUnavailable, UnknownStream
from console.server.media.tsparse import PACKET, SYNC
from console.server.tables_ptz import recordings

log = logging.getLogger("rtcc.media.recorder")

PTS_HZ = 90_000
PTS_WRAP = 1 << 33
REANCHOR_S = 2.0


def pes_pts(pkt: bytes | memoryview) -> int | None:
    """The PTS of a packet that starts a PES with one, else None."""
    if not tsparse.pusi(pkt):
        return None
    data = tsparse.payload(pkt)
    if len(data) < 14 or data[:3] != b"\x00\x00\x01" or not data[7] & 0x80:
        return None
    p = data[9:14]
    return (
        (((p[0] >> 1) & 0x07) << 30)
        | (p[1] << 22)
        | ((p[2] >> 1) << 15)
        | (p[3] << 7)
        | (p[4] >> 1)
    )


@dataclass
class Segment:
    """A closed segment, ready to index. ``path`` is relative to the recordings root."""

    camera_id: str
    profile: str
    start: float  # unix seconds
    end: float
    path: str
    bytes: int
    keyframes: list[list[float]]  # [[byte offset, seconds after start], ...]


@dataclass
class _Open:
    file: BinaryIO
    rel: str
    start: float
    start_pts: int
    size: int = 0
    keyframes: list[list[float]] = field(default_factory=list)


class SegmentWriter:
    """Cuts one stream's packet-aligned MPEG-TS bytes into segment files (synchronous).

    ``feed(chunk, now)`` returns the segments it closed; ``close(now)`` closes the last one."""

    def __init__(
        self, root: Path, camera_id: str, profile: str, segment_s: float = 10.0
    ) -> None:
        if segment_s <= 0:
            raise ValueError(f"SegmentWriter: segment_s must be > 0, got {segment_s}")
        self.root = Path(root)
        self.camera_id = camera_id
        self.profile = profile
        self.segment_s = segment_s
        self._program = tsparse.ProgramInfo()
        self._pat: bytes | None = None
        self._pmt: bytes | None = None
        self._pending = b""
        self._open: _Open | None = None
        self._anchor: tuple[float, int] | None = None  # (wall, pts) of a keyframe
        self._last_pts: int | None = None

    def _wall(self, pts: int, now: float) -> float:
        """Wall time of a PTS on the current anchor (re-anchored on drift or wrap)."""
        if self._anchor is not None:
            wall, base = self._anchor
            t = wall + ((pts - base) % PTS_WRAP) / PTS_HZ
            if abs(t - now) <= REANCHOR_S:
                return t
        self._anchor = (now, pts)
        return now

    def feed(self, chunk: bytes, now: float) -> list[Segment]:
        buf = self._pending + chunk
        closed: list[Segment] = []
        start = 0  # bytes of buf not yet written to a file begin here
        off = 0
        while off + PACKET <= len(buf):
            if buf[off] != SYNC:  # the gateway sends aligned packets; be safe anyway
                nxt = tsparse.find_sync(buf, off)
                if nxt < 0:
                    break
                self._write(buf[start:off])
                off = start = nxt
                continue
            pkt = memoryview(buf)[off : off + PACKET]
            pid = tsparse.pid(pkt)
            if pid == self._program.video_pid and tsparse.pusi(pkt):
                pts = pes_pts(pkt)
                if pts is not None:
                    self._last_pts = pts
                if pts is not None and tsparse.keyframe_at(buf, off, pid):
                    self._write(buf[start:off])
                    start = off
                    closed += self._keyframe(pts, now)
            elif pid == tsparse.PAT_PID or pid in self._program.pmt_pids:
                kind = self._program.update(pkt)
                if kind == "pat":
                    self._pat = bytes(pkt)
                elif kind == "pmt":
                    self._pmt = bytes(pkt)
            off += PACKET
        self._write(buf[start:off])
        self._pending = buf[off:]
        return closed

    def _keyframe(self, pts: int, now: float) -> list[Segment]:
        wall = self._wall(pts, now)
        seg = self._open
        closed: list[Segment] = []
        if seg is not None and wall - seg.start >= self.segment_s:
            closed.append(self._close_open(wall))
            seg = None
        if seg is None:
            if self._pat is None or self._pmt is None:
                return closed  # cannot start a playable file yet
            seg = self._new_file(wall, pts)
        seg.keyframes.append(
            [seg.size, round(((pts - seg.start_pts) % PTS_WRAP) / PTS_HZ, 3)]
        )
        return closed

    def _new_file(self, wall: float, pts: int) -> _Open:
        rel = f"{self.camera_id}/{self.profile}/{int(wall * 1000)}.ts"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        f = path.open("wb")
        assert self._pat is not None and self._pmt is not None
        f.write(self._pat + self._pmt)
        self._open = _Open(file=f, rel=rel, start=wall, start_pts=pts, size=2 * PACKET)
        return self._open

    def _write(self, data: bytes) -> None:
        if data and self._open is not None:
            self._open.file.write(data)
            self._open.size += len(data)

    def _close_open(self, end: float) -> Segment:
        seg, self._open = self._open, None
        assert seg is not None
        seg.file.close()
        return Segment(
            self.camera_id,
            self.profile,
            seg.start,
            max(end, seg.start),
            seg.rel,
            seg.size,
            seg.keyframes,
        )

    def close(self, now: float) -> Segment | None:
        """Close the open segment (its end: the last video PTS seen); None if there is none."""
        if self._open is None:
            return None
        end = self._wall(self._last_pts, now) if self._last_pts is not None else now
        return self._close_open(end)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Recorder:
    """Records every gateway source whose profile is in ``profiles`` (and, if given, whose
    camera is in ``camera_ids``), checked every ``reconcile_s``; sources that disappear
    stop being recorded."""

    def __init__(
        self,
        gateway: MediaGateway,
        engine: Engine,
        root: Path,
        *,
        profiles: Iterable[str] = ("sub",),
        camera_ids: Iterable[str] | None = None,
        segment_s: float = 10.0,
        max_age_s: float | None = 7 * 24 * 3600.0,
        max_bytes: int | None = None,
        reconcile_s: float = 5.0,
        retry_s: float = 2.0,
    ) -> None:
        self.gateway = gateway
        self.engine = engine
        self.root = Path(root)
        self.profiles = frozenset(profiles)
        self.camera_ids = None if camera_ids is None else frozenset(camera_ids)
        self.segment_s = segment_s
        self.max_age_s = max_age_s
        self.max_bytes = max_bytes
        self.reconcile_s = reconcile_s
        self.retry_s = retry_s
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._reconciler: asyncio.Task[None] | None = None
        self.segments_written = 0

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._reconciler is None:
            self._reconciler = asyncio.get_running_loop().create_task(
                self._reconcile_loop(), name="recorder"
            )
        log.info("recorder: profiles %s into %s", sorted(self.profiles), self.root)

    async def stop(self) -> None:
        """Stop recording; the open segments are closed and indexed. Idempotent."""
        tasks = [t for t in (self._reconciler, *self._tasks.values()) if t is not None]
        self._reconciler = None
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def recording(self) -> list[tuple[str, str]]:
        return sorted(self._tasks)

    def _wanted(self) -> set[tuple[str, str]]:
        keys = (k.split("/", 1) for k in self.gateway.stats())
        return {
            (c, p)
            for c, p in keys
            if p in self.profiles and (self.camera_ids is None or c in self.camera_ids)
        }

    async def _reconcile_loop(self) -> None:
        while True:
            wanted = self._wanted()
            for key in wanted - set(self._tasks):
                self._tasks[key] = asyncio.get_running_loop().create_task(
                    self._record(*key), name=f"record {key[0]}/{key[1]}"
                )
            for key in set(self._tasks) - wanted:
                self._tasks.pop(key).cancel()
            for key, task in list(self._tasks.items()):
                if task.done():
                    del self._tasks[key]  # restarted on the next pass
            await asyncio.sleep(self.reconcile_s)

    async def _record(self, camera_id: str, profile: str) -> None:
        while True:
            try:
                sub = await self.gateway.subscribe(
                    camera_id, profile, first_data_timeout=10.0
                )
            except UnknownStream:
                return
            except StreamUnavailable as exc:
                log.warning(
                    "recorder %s/%s: %s; retrying in %.0f s",
                    camera_id,
                    profile,
                    exc,
                    self.retry_s,
                )
                await asyncio.sleep(self.retry_s)
                continue
            writer = SegmentWriter(self.root, camera_id, profile, self.segment_s)
            try:
                async for chunk in sub:
                    for seg in writer.feed(chunk, time.time()):
                        await self._index(seg)
            finally:
                sub.close()
                last = writer.close(time.time())
                if last is not None:
                    # shielded: stop() cancels us, and the last segment must still be indexed
                    await asyncio.shield(self._index(last))
            log.info(
                "recorder %s/%s: stream ended (%s); resubscribing",
                camera_id,
                profile,
                sub.end_reason,
            )
            await asyncio.sleep(self.retry_s)

    async def _index(self, seg: Segment) -> None:
        await asyncio.to_thread(self._insert_and_prune, seg)
        self.segments_written += 1

    def _insert_and_prune(self, seg: Segment) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(recordings).values(
                    camera_id=seg.camera_id,
                    profile=seg.profile,
                    start=_utc(seg.start),
                    end=_utc(seg.end),
                    path=seg.path,
                    bytes=seg.bytes,
                    keyframes=seg.keyframes,
                )
            )
        self.prune()

    def prune(self, now: float | None = None) -> int:
        """Apply retention; returns the number of segments deleted."""
        now = time.time() if now is None else now
        doomed: list[tuple[int, str]] = []
        with self.engine.connect() as conn:
            if self.max_age_s is not None:
                doomed += [
                    (r.id, r.path)
                    for r in conn.execute(
                        select(recordings.c.id, recordings.c.path).where(
                            recordings.c.end < _utc(now - self.max_age_s)
                        )
                    )
                ]
            if self.max_bytes is not None:
                total = conn.execute(
                    select(func.coalesce(func.sum(recordings.c.bytes), 0))
                ).scalar_one()
                gone = {i for i, _ in doomed}
                for r in conn.execute(
                    select(
                        recordings.c.id, recordings.c.path, recordings.c.bytes
                    ).order_by(recordings.c.start)
                ):
                    if total <= self.max_bytes:
                        break
                    if r.id not in gone:
                        doomed.append((r.id, r.path))
                    total -= r.bytes
        if not doomed:
            return 0
        with self.engine.begin() as conn:
            conn.execute(
                delete(recordings).where(recordings.c.id.in_([i for i, _ in doomed]))
            )
        for _, rel in doomed:
            (self.root / rel).unlink(missing_ok=True)
        log.info("recorder: retention deleted %d segments", len(doomed))
        return len(doomed)


def recordings_root(settings: object) -> Path:
    """Where recordings live: ``settings.recordings_dir`` or ``<data dir>/recordings``."""
    from console.config import data_dir

    configured = getattr(settings, "recordings_dir", None)
    return Path(configured) if configured else Path(data_dir()) / "recordings"


async def start_recorder(
    settings: object, gateway: MediaGateway, engine: Engine
) -> Recorder | None:
    """The app's recorder per ``settings.record_profiles`` (None when recording is off)."""
    profiles = frozenset(getattr(settings, "record_profiles", frozenset()))
    if not profiles:
        return None
    recorder = Recorder(
        gateway,
        engine,
        recordings_root(settings),
        profiles=profiles,
        segment_s=getattr(settings, "record_segment_s", 10.0),
        max_age_s=getattr(settings, "record_max_age_s", None),
        max_bytes=getattr(settings, "record_max_bytes", None),
    )
    await recorder.start()
    return recorder
