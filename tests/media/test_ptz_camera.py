"""The simulated PTZ camera: its stdin protocol, and a picture that REALLY moves (frames
decoded from its RTSP stream shift by the amount the pan geometry predicts)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from console.server.sim.cameras import SimCameraError
from console.server.sim.ptz import SCENE_SIZE, SimPtzCamera, ensure_scene
from console.server.sim.ptz_camera import WIDEST

W, H = 640, 360
FRAMES = (
    20  # > one GOP (15): the last frame is live, never the gateway's cached keyframe
)


def cache_dir() -> Path:
    return Path(os.environ["RTCC_CACHE_DIR"])


def grab_gray(url: str, frames: int = FRAMES) -> np.ndarray:
    """The last of ``frames`` decoded frames of url, as a 360x640 grey image."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"]
    if url.startswith("rtsp://"):
        cmd += ["-rtsp_transport", "tcp"]
    cmd += [
        "-analyzeduration", "0", "-probesize", "65536",  # live input: start at once
        "-i",
        url,
        "-frames:v",
        str(frames),
        "-vf",
        f"scale={W}:{H}",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "gray",
        "pipe:1",
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-500:]
    assert len(proc.stdout) >= W * H, (
        f"only {len(proc.stdout)} bytes decoded from {url}"
    )
    return (
        np.frombuffer(proc.stdout[-W * H :], np.uint8).reshape(H, W).astype(np.float32)
    )


def horizontal_shift(
    a: np.ndarray, b: np.ndarray, max_shift: int = 200
) -> tuple[int, float]:
    """(s, error): b[:, x] best matches a[:, x + s] (the view moved right by s pixels), over
    the rows above the corner ball; error is the mean absolute difference at s."""
    a, b = a[: H * 5 // 6], b[: H * 5 // 6]
    best = (0, float("inf"))
    for s in range(-max_shift, max_shift + 1):
        if s >= 0:
            err = float(np.abs(a[:, s:] - b[:, : W - s]).mean())
        else:
            err = float(np.abs(a[:, : W + s] - b[:, -s:]).mean())
        if err < best[1]:
            best = (s, err)
    return best


def expected_shift(pan_from: float, pan_to: float, zoom: float = 0.0) -> float:
    """Output pixels the view moves for a pan change, from ptz_camera.py's geometry."""
    scene_w = SCENE_SIZE[0]
    window = scene_w * WIDEST / 6.0**zoom
    return (pan_to - pan_from) * (scene_w - window) / 2 * W / window


def wait_until(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)  # poll-until-condition


@pytest.fixture(scope="module")
def ptz_cam() -> Iterator[SimPtzCamera]:
    with SimPtzCamera("ptzsim", cache_dir()) as cam:
        yield cam


def test_scene_is_rendered_once_and_cached() -> None:
    first = ensure_scene(cache_dir())
    assert first.is_file() and first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mtime = first.stat().st_mtime_ns
    assert ensure_scene(cache_dir()) == first and first.stat().st_mtime_ns == mtime


def test_goto_and_position_round_trip(ptz_cam: SimPtzCamera) -> None:
    ptz_cam.goto(0.25, -0.5, 0.75)
    pos = ptz_cam.position()
    assert (pos.pan, pos.tilt, pos.zoom) == pytest.approx((0.25, -0.5, 0.75), abs=1e-3)


def test_bad_commands_are_refused_naming_the_problem(ptz_cam: SimPtzCamera) -> None:
    with pytest.raises(SimCameraError, match=r"goto: pan, tilt in \[-1, 1\]"):
        ptz_cam.goto(2.0, 0, 0)
    with pytest.raises(
        SimCameraError, match=r"velocity: each value must be in \[-1, 1\]"
    ):
        ptz_cam.velocity(0, 0, 3)
    with pytest.raises(SimCameraError, match="bad command"):
        ptz_cam._command("spin 1", "OK")
    ptz_cam.position()  # still answering


def test_velocity_moves_until_stopped(ptz_cam: SimPtzCamera) -> None:
    ptz_cam.goto(-0.5, 0, 0)
    ptz_cam.velocity(1, 0, 0)
    wait_until(lambda: ptz_cam.position().pan > -0.3, 10, "the pan to advance")
    ptz_cam.halt()
    stopped = ptz_cam.position().pan
    assert -0.3 < stopped < 1
    # A stopped camera stays put: poll a few positions, all equal.
    assert {round(ptz_cam.position().pan, 4) for _ in range(5)} == {round(stopped, 4)}


def test_picture_shifts_by_the_pan(ptz_cam: SimPtzCamera) -> None:
    ptz_cam.goto(0, 0, 0)
    before = grab_gray(ptz_cam.url("sub"))
    ptz_cam.goto(0.2, 0, 0)
    after = grab_gray(ptz_cam.url("sub"))
    shift, err = horizontal_shift(before, after)
    assert shift == pytest.approx(expected_shift(0, 0.2), abs=3), (shift, err)
    assert err < 4, f"frames do not match at the best shift (mean abs diff {err:.1f})"
    # The unshifted frames differ: the picture really changed.
    assert float(np.abs(before - after).mean()) > 2 * err


def test_zoom_changes_the_picture_scale(ptz_cam: SimPtzCamera) -> None:
    ptz_cam.goto(0, 0, 0)
    wide = grab_gray(ptz_cam.url("sub"))
    ptz_cam.goto(0, 0, 1)
    tele = grab_gray(ptz_cam.url("sub"))

    # Zoomed in 6x, the 240-px grid spans 480 output px: far fewer grid lines per row.
    def edges(img: np.ndarray) -> int:
        profile = img[: H * 5 // 6].mean(axis=0)
        return int((np.abs(np.diff(profile)) > 8).sum())

    assert edges(tele) < edges(wide)


def test_stop_ends_the_process_group(tmp_path: Path) -> None:
    cam = SimPtzCamera("ptzgone", cache_dir()).start()
    pid = cam.pid
    assert pid is not None
    cam.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    with pytest.raises(SimCameraError, match="not running"):
        cam.position()
