"""The media router over a real gateway, real ffmpeg upstreams and the RTSP simulator."""

import logging
import time

import httpx
import pytest

from console.server.media import tokens, tsparse
from console.server.sim.cameras import SimCameraServer

from .conftest import CAM_PASSWORD, SECRET, MediaApp, run_ffmpeg, wait_until


def check_starts_clean(data: bytes) -> None:
    """PAT, then its PMT, then a packet starting an H.264 keyframe (IDR/SPS in its PES)."""
    pk = [data[i : i + 188] for i in range(0, 188 * 3, 188)]
    assert all(p[0] == 0x47 for p in pk)
    assert tsparse.pid(pk[0]) == tsparse.PAT_PID
    assert tsparse.pid(pk[1]) in tsparse.pat_pmt_pids(pk[0])
    streams = tsparse.pmt_streams(pk[1])
    assert (
        tsparse.pid(pk[2]) in streams
        and streams[tsparse.pid(pk[2])] == tsparse.H264_STREAM_TYPE
    )
    assert tsparse.keyframe_at(data, 188 * 2, tsparse.pid(pk[2]))


def test_new_viewers_start_with_pat_pmt_keyframe(media_app: MediaApp, viewers) -> None:
    first = viewers(media_app.port, media_app.path("cam01", "sub"))
    assert first.status == 200 and first.headers["content-type"] == "video/mp2t"
    assert "no-store" in first.headers["cache-control"]
    wait_until(lambda: len(first.head) >= 188 * 3, 15, "first viewer's bytes")
    check_starts_clean(bytes(first.head))
    # join mid-GOP, so the second viewer's start can only come from the keyframe cache
    wait_until(lambda: (media_app.stats("cam01/sub")["last_keyframe_age"] or 0) > 0.3, 5,
               "the stream to be past its last keyframe")
    second = viewers(media_app.port, media_app.path("cam01", "sub"))
    wait_until(lambda: len(second.head) >= 188 * 3, 10, "second viewer's bytes")
    check_starts_clean(bytes(second.head))


def test_three_viewers_share_one_upstream_and_leave_cleanly(
    media_app: MediaApp,
    sim: SimCameraServer,
    viewers,
) -> None:
    starts_before = media_app.stats("cam01/main")["upstream_starts"]
    vs = [viewers(media_app.port, media_app.path("cam01", "main")) for _ in range(3)]
    for v in vs:
        wait_until(lambda v=v: v.received > 50_000, 15, "each viewer receiving video")
    assert sim.sessions("cam01", "main") == 1
    stats = media_app.stats("cam01/main")
    assert stats["viewers"] == 3 and stats["running"]
    assert stats["upstream_starts"] == starts_before + 1
    assert stats["last_keyframe_age"] is not None and stats["last_keyframe_age"] < 3
    for v in vs:
        v.close()
    wait_until(
        lambda: media_app.stats("cam01/main")["viewers"] == 0,
        10,
        "viewers released after disconnect",
    )
    # on-demand: the upstream stops linger_s (1 s here) after the last viewer left
    wait_until(
        lambda: not media_app.stats("cam01/main")["running"],
        10,
        "upstream stopped after linger",
    )
    wait_until(lambda: sim.sessions("cam01", "main") == 0, 10, "RTSP session closed")


def test_always_on_source_runs_without_viewers(
    media_app: MediaApp, sim: SimCameraServer
) -> None:
    wait_until(
        lambda: media_app.stats("cam02/sub")["running"],
        10,
        "always-on upstream running",
    )
    assert media_app.stats("cam02/sub")["viewers"] == 0
    assert sim.sessions("cam02", "sub") == 1
    with httpx.stream("GET", media_app.url("cam02", "sub"), timeout=10) as r:
        assert r.status_code == 200
        assert len(next(r.iter_raw())) > 0


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "missing"),
        ("garbage", "malformed"),
        (tokens.issue(b"other-secret", "cam01", "sub"), "bad signature"),
        (
            tokens.issue(SECRET, "cam01", "sub", ttl_s=10, now=time.time() - 60),
            "expired",
        ),
        (tokens.issue(SECRET, "cam02", "sub"), "wrong stream"),
    ],
)
def test_bad_tokens_are_refused(
    media_app: MediaApp, token: str | None, reason: str
) -> None:
    url = f"http://127.0.0.1:{media_app.port}/api/v1/media/cam01/sub.ts"
    r = httpx.get(url, params={} if token is None else {"token": token}, timeout=10)
    assert r.status_code == 401
    assert reason in r.json()["detail"]


def test_unknown_stream_is_404(media_app: MediaApp) -> None:
    r = httpx.get(media_app.url("nope", "main"), timeout=10)
    assert r.status_code == 404


def test_unreachable_upstream_is_503_and_password_never_logged(
    media_app: MediaApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    r = httpx.get(media_app.url("ghost", "main"), timeout=15)
    assert r.status_code == 503
    assert r.headers["retry-after"]
    wait_until(
        lambda: any("404" in rec.getMessage() for rec in caplog.records),
        5,
        "ffmpeg's error logged",
    )
    messages = [rec.getMessage() for rec in caplog.records]
    assert any("rtsp://***@" in m for m in messages), (
        "the masked source URL should be logged"
    )
    assert not [m for m in messages if CAM_PASSWORD in m]
    token = media_app.path("ghost", "main").split("token=")[1]
    access = [
        rec.getMessage() for rec in caplog.records if rec.name == "uvicorn.access"
    ]
    assert any("/api/v1/media/ghost/main.ts?token=***" in m for m in access), (
        "masked access log line expected"
    )
    assert not [m for m in access if token in m], (
        "media tokens must be masked in the access log"
    )


def test_ffmpeg_decodes_the_http_output(media_app: MediaApp) -> None:
    proc = run_ffmpeg(
        [
            "-v",
            "error",
            "-i",
            media_app.url("cam02", "main"),
            "-t",
            "2",
            "-f",
            "null",
            "-",
        ]
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.slow
def test_upstream_loss_holds_viewers_then_restarts_them(
    media_app: MediaApp, sim: SimCameraServer, viewers
) -> None:
    viewer = viewers(media_app.port, media_app.path("cam03", "sub"))
    wait_until(lambda: viewer.received > 10_000, 15, "viewer receiving cam03/sub")
    starts = media_app.stats("cam03/sub")["upstream_starts"]
    sim.stop_camera("cam03")
    try:
        # the camera is gone: the viewer's response stays open (a stall, as players expect
        # from a camera) and carries no more data; new viewers cannot start
        wait_until(lambda: media_app.stats("cam03/sub")["upstream_starts"] > starts, 15,
                   "the gateway reconnecting to the lost camera")
        held_at = viewer.received
        assert httpx.get(media_app.url("cam03", "sub"), timeout=15).status_code == 503
        assert not viewer.eof.is_set() and viewer.received == held_at
    finally:
        sim.start_camera("cam03")
    # once the camera is back, the held viewer is ended so it reconnects to a clean stream
    assert viewer.eof.wait(30), "a held viewer should be ended when the upstream returns"

    def new_viewer_gets_video() -> bool:
        with httpx.stream("GET", media_app.url("cam03", "sub"), timeout=15) as r:
            return r.status_code == 200 and len(next(r.iter_raw())) > 0

    wait_until(
        new_viewer_gets_video,
        30,
        "a new viewer getting video after the camera returns",
        interval=0.5,
    )
    assert media_app.stats("cam03/sub")["upstream_starts"] > starts
