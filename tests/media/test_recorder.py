"""Recording: SegmentWriter cuts MPEG-TS at keyframes into files that play alone; the
Recorder records a live simulated camera through the gateway, indexes the segments, and a
range cut from them (recordings.plan) decodes with about the range's duration; retention."""
from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from console.server import db
from console.server.media.recorder import PACKET, Recorder, SegmentWriter
from console.server.routers.recordings import _stream, plan
from console.server.sim.clips import SimCameraSpec, ensure_clips
from console.server.tables_ptz import recordings
from tests.media.conftest import CLIP_CACHE, MediaApp, run_ffmpeg, wait_until


def ffprobe(path: Path) -> dict[str, Any]:
    proc = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name",
                           "-of", "json", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def decoded_frames(path: Path) -> int:
    """Frames ffmpeg decodes from path; fails on any decode error."""
    proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(path),
                           "-f", "null", "-", "-progress", "pipe:1"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-500:]
    frames = [int(line.split("=")[1]) for line in proc.stdout.splitlines() if line.startswith("frame=")]
    return frames[-1]


@pytest.fixture(scope="module")
def ts_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s, 15 fps, 1 s GOP clip remuxed to MPEG-TS (what the gateway hands out)."""
    spec = SimCameraSpec("rec01", "Recorder", "#884422", main=(320, 180, 15), sub=(320, 180, 15))
    mp4 = ensure_clips([spec], CLIP_CACHE, 6)[("rec01", "sub")]
    out = tmp_path_factory.mktemp("clip") / "clip.ts"
    proc = run_ffmpeg(["-i", str(mp4), "-c", "copy", "-f", "mpegts", str(out)])
    assert proc.returncode == 0, proc.stderr
    return out


def test_segment_writer_cuts_at_keyframes(ts_clip: Path, tmp_path: Path) -> None:
    data = ts_clip.read_bytes()
    writer = SegmentWriter(tmp_path, "rec01", "sub", segment_s=2.0)
    t0, step = 1_700_000_000.0, 7 * PACKET + 5  # odd chunk size: packets split across chunks
    segments = []
    for i in range(0, len(data), step):
        segments += writer.feed(data[i : i + step], t0 + 6.0 * i / len(data))
    last = writer.close(t0 + 6.0)
    assert last is not None
    segments.append(last)
    durations = [round(s.end - s.start, 2) for s in segments]
    assert durations[:-1] == [2.0] * (len(segments) - 1), durations  # 1 s GOP: cuts at 2 s
    assert sum(durations) == pytest.approx(6.0, abs=0.2)
    for a, b in itertools.pairwise(segments):
        assert b.start == pytest.approx(a.end, abs=1e-6)  # contiguous
    for seg in segments:
        path = tmp_path / seg.path
        assert path.stat().st_size == seg.bytes and seg.bytes % PACKET == 0
        assert seg.keyframes[0] == [2 * PACKET, 0.0]  # PAT + PMT, then the keyframe
        assert [round(t) for _, t in seg.keyframes] == list(range(len(seg.keyframes)))
        assert ffprobe(path)["format"]["duration"]
        assert decoded_frames(path) >= 15 * round(seg.end - seg.start) - 1


def test_segment_writer_rejects_a_bad_length(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="segment_s"):
        SegmentWriter(tmp_path, "c", "sub", segment_s=0)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'rec.db'}"
    db.upgrade(url)
    eng = db.make_engine(url)
    yield eng
    eng.dispose()


def rows(engine: Engine, camera_id: str) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(recordings).where(recordings.c.camera_id == camera_id)
                            .order_by(recordings.c.start)).all()


def run_in(app: MediaApp, coro: Any) -> Any:
    assert app.loop is not None
    return asyncio.run_coroutine_threadsafe(coro, app.loop).result(30)


def test_recorder_records_a_live_camera(media_app: MediaApp, engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    recorder = Recorder(media_app.gateway, engine, root, profiles=["sub"], camera_ids=["cam02"],
                        segment_s=2.0, max_age_s=None)
    run_in(media_app, recorder.start())
    try:
        wait_until(lambda: len(rows(engine, "cam02")) >= 3, 40, "three recorded segments")
    finally:
        run_in(media_app, recorder.stop())
    segs = rows(engine, "cam02")
    assert recorder.recording == [] and {r.profile for r in segs} == {"sub"}
    assert all(1.9 <= (db.as_utc(r.end) - db.as_utc(r.start)).total_seconds() <= 3.1 for r in segs[:-1])
    for a, b in itertools.pairwise(segs):
        assert abs((db.as_utc(b.start) - db.as_utc(a.end)).total_seconds()) < 0.2

    # Play a range from inside the first segment to inside the third.
    start = db.as_utc(segs[0].start).timestamp() + 0.5
    end = db.as_utc(segs[2].end).timestamp() - 0.5
    out = tmp_path / "range.ts"
    with out.open("wb") as f:
        for chunk in _stream(plan(segs, root, start, end)):
            f.write(chunk)
    duration = float(ffprobe(out)["format"]["duration"])
    # Cut at keyframes (1 s GOP): up to a second more at each end, never less.
    assert end - start - 0.2 <= duration <= end - start + 2.2, (duration, end - start)
    assert decoded_frames(out) >= 15 * (end - start - 0.5)


def test_retention_by_bytes_and_age(media_app: MediaApp, engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    recorder = Recorder(media_app.gateway, engine, root, profiles=["sub"], camera_ids=["cam03"],
                        segment_s=1.0, max_age_s=None)
    run_in(media_app, recorder.start())
    try:
        wait_until(lambda: len(rows(engine, "cam03")) >= 3, 40, "three recorded segments")
    finally:
        run_in(media_app, recorder.stop())
    segs = rows(engine, "cam03")
    recorder.max_bytes = sum(r.bytes for r in segs[1:])  # room for all but the oldest
    assert recorder.prune() == 1
    assert [r.id for r in rows(engine, "cam03")] == [r.id for r in segs[1:]]
    assert not (root / segs[0].path).exists() and (root / segs[1].path).exists()
    recorder.max_bytes, recorder.max_age_s = None, 60.0
    assert recorder.prune(now=time.time() + 3600) == len(segs) - 1
    assert rows(engine, "cam03") == [] and not any(root.rglob("*.ts"))
