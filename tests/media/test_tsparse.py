"""tsparse and the Upstream's TS handling on a real MPEG-TS made by ffmpeg from a sim clip."""

import asyncio
from pathlib import Path

import pytest

from console.server.media import tsparse
from console.server.media.upstream import Upstream
from console.server.sim.clips import ensure_clips

from .conftest import CLIP_CACHE, CLIP_SECONDS, SPECS, run_ffmpeg


@pytest.fixture(scope="module")
def ts_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    clip = ensure_clips(SPECS[1:2], CLIP_CACHE, CLIP_SECONDS)[("cam02", "sub")]
    out = tmp_path_factory.mktemp("ts") / "clip.ts"
    proc = run_ffmpeg(
        ["-v", "error", "-i", str(clip), "-c", "copy", "-f", "mpegts", str(out)]
    )
    assert proc.returncode == 0, proc.stderr
    return Path(out).read_bytes()


def packets(data: bytes) -> list[bytes]:
    return [data[i : i + 188] for i in range(0, len(data) - 187, 188)]


def test_program_info_and_keyframes(ts_bytes: bytes) -> None:
    prog = tsparse.ProgramInfo()
    kinds = [prog.update(p) for p in packets(ts_bytes)]
    assert "pat" in kinds and "pmt" in kinds
    assert prog.video_pid is not None
    starts = [
        p
        for p in packets(ts_bytes)
        if tsparse.pid(p) == prog.video_pid and tsparse.pusi(p)
    ]
    keys = [p for p in starts if tsparse.is_h264_keyframe_start(p)]
    assert len(keys) == CLIP_SECONDS  # one keyframe per second
    assert len(starts) > 10 * len(keys)  # P-frames are not taken for keyframes


def test_keyframe_found_by_nal_scan_without_random_access_flag(ts_bytes: bytes) -> None:
    """Clear every random_access_indicator: the NAL scan must still find exactly the keyframes,
    including the first one whose opening packet holds only x264's long SEI."""
    prog = tsparse.ProgramInfo()
    for p in packets(ts_bytes):
        prog.update(p)
    assert prog.video_pid is not None
    data = bytearray(ts_bytes)
    offsets = range(0, len(data) - 187, 188)
    flagged = [
        o
        for o in offsets
        if tsparse.pid(data[o : o + 188]) == prog.video_pid
        and tsparse.random_access(data[o : o + 188])
    ]
    assert len(flagged) == CLIP_SECONDS
    for o in flagged:
        data[o + 5] &= ~0x40
    found = [
        o
        for o in offsets
        if tsparse.pid(data[o : o + 188]) == prog.video_pid
        and tsparse.keyframe_at(data, o, prog.video_pid)
    ]
    assert found == flagged


def test_find_sync_skips_garbage(ts_bytes: bytes) -> None:
    junk = b"\x47junk\x00" * 20
    assert tsparse.find_sync(junk + ts_bytes[: 188 * 4]) == len(junk)
    assert tsparse.find_sync(b"\x00" * 500) == -1


def test_upstream_cache_starts_new_viewer_at_pat_pmt_keyframe(ts_bytes: bytes) -> None:
    """Feed garbage then the TS in odd-sized pieces; a viewer joining mid-GOP starts clean."""
    up = Upstream("rtsp://unused", "t/unit")
    up._feed(b"garbage-before-sync" * 3)  # exercising the parser directly
    half = len(ts_bytes) * 5 // 8
    for i in range(0, half, 1000):
        up._feed(ts_bytes[i : min(i + 1000, half)])
    sub = up.subscribe()
    assert sub.primed
    data = asyncio.run(sub.next())
    pk = packets(data)
    assert tsparse.pid(pk[0]) == 0
    assert tsparse.pid(pk[1]) in tsparse.pat_pmt_pids(pk[0])
    video = next(iter(tsparse.pmt_streams(pk[1])))
    assert tsparse.pid(pk[2]) == video  # nothing of the previous GOP comes first
    assert tsparse.keyframe_at(data, 2 * 188, video)
