#!/usr/bin/python3
"""A simulated PTZ camera: a window panning, tilting and zooming over a large still scene.

Run by the SYSTEM interpreter (/usr/bin/python3; python3-gi + gir1.2-gst-rtsp-server-1.0), never
imported by the app venv: every gi import happens inside main().

    /usr/bin/python3 ptz_camera.py --port 0 --scene scene.png --camera-id ptz01

Serves rtsp://127.0.0.1:<port>/<camera_id>/sub (640x360) and /main (1280x720), 15 fps H.264
(x264 ultrafast/zerolatency, keyframe every second). Each mount's shared media crops the
current window out of the decoded scene (videocrop, re-set on every tick) and scales it, with
the running time and the position burnt in so every frame differs (console stall watchdogs).

Position: pan and tilt in [-1, 1] (0 = centre; tilt +1 = top), zoom in [0, 1] (0 = widest).
Velocities are in [-1, 1]: 1 moves PAN_SPEED (etc.) units per second.

stdout protocol (one line each, flushed):
    READY <port>                     once, when the server listens
stdin commands -> one reply line each:
    velocity <pan> <tilt> <zoom>  -> OK velocity     continuous move until stop / next velocity
    stop                          -> OK stop
    goto <pan> <tilt> <zoom>      -> OK goto         absolute move (instant), stops any motion
    position                      -> POSITION <pan> <tilt> <zoom>
    quit                          -> BYE             then exit
    anything wrong                -> ERR <reason>
stdin EOF -> exit (the parent died; never leave an orphan).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("rtcc.sim.ptz")

Gst: Any = None
GLib: Any = None
GstRtspServer: Any = None

FPS = 15
PAN_SPEED = 0.5  # position units per second at velocity 1 (a full sweep takes 4 s)
TILT_SPEED = 0.5
ZOOM_SPEED = 0.5
WIDEST = 0.5  # the window's width at zoom 0, as a fraction of the scene's width
ZOOM_RANGE = 6.0  # zoom 1 shows a window ZOOM_RANGE times narrower than zoom 0
PROFILES = {"sub": (640, 360, 600), "main": (1280, 720, 1500)}  # width, height, kbit/s

# A small bouncing ball composited into a corner makes every frame differ (console stall
# watchdogs count changed pictures); the scene window is re-cropped on every tick.
_MEDIA_LAUNCH = (
    "( compositor name=mix background=black sink_1::xpos={bx} sink_1::ypos={by} "
    "! video/x-raw,format=I420,width={w},height={h},framerate={fps}/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bitrate={kbps} threads=1 "
    "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 "
    "filesrc location={scene} ! pngdec ! videoconvert ! video/x-raw,format=I420 "
    "! imagefreeze is-live=true ! video/x-raw,framerate={fps}/1 "
    "! videocrop name=crop ! videoscale ! video/x-raw,width={w},height={h},pixel-aspect-ratio=1/1 "
    "! mix.sink_0 "
    "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width={bw},height={bh},"
    "framerate={fps}/1 ! mix.sink_1 )"
)
BALL_FRACTION = 8  # the ball box is 1/8 of the picture's width and height, bottom-right


class PtzState:
    """Position and velocity; integrates motion on each tick. Guarded by a lock: commands
    arrive on the main loop, ticks too, but position() replies may race with them."""

    def __init__(self, scene_w: int, scene_h: int) -> None:
        self.scene_w, self.scene_h = scene_w, scene_h
        self.pan = self.tilt = self.zoom = 0.0
        self.v_pan = self.v_tilt = self.v_zoom = 0.0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    @staticmethod
    def _clamp(v: float, lo: float, hi: float) -> float:
        return max(lo, min(hi, v))

    def tick(self) -> None:
        now = time.monotonic()
        with self._lock:
            dt, self._last = now - self._last, now
            self.pan = self._clamp(self.pan + self.v_pan * PAN_SPEED * dt, -1, 1)
            self.tilt = self._clamp(self.tilt + self.v_tilt * TILT_SPEED * dt, -1, 1)
            self.zoom = self._clamp(self.zoom + self.v_zoom * ZOOM_SPEED * dt, 0, 1)

    def velocity(self, p: float, t: float, z: float) -> None:
        self.tick()
        with self._lock:
            self.v_pan, self.v_tilt, self.v_zoom = p, t, z

    def goto(self, p: float, t: float, z: float) -> None:
        self.tick()
        with self._lock:
            self.v_pan = self.v_tilt = self.v_zoom = 0.0
            self.pan, self.tilt, self.zoom = p, t, z

    def position(self) -> tuple[float, float, float]:
        self.tick()
        with self._lock:
            return self.pan, self.tilt, self.zoom

    def window(self) -> tuple[int, int, int, int]:
        """(left, right, top, bottom) crop of the scene, even numbers (I420 chroma)."""
        p, t, z = self.position()
        w = self.scene_w * WIDEST / ZOOM_RANGE**z
        h = w * 9 / 16
        cx = self.scene_w / 2 + p * (self.scene_w - w) / 2
        cy = self.scene_h / 2 - t * (self.scene_h - h) / 2

        def even(v: float) -> int:
            return max(0, round(v / 2) * 2)

        left, top = even(cx - w / 2), even(cy - h / 2)
        right = even(self.scene_w - left - even(w))
        bottom = even(self.scene_h - top - even(h))
        return left, right, top, bottom


class PtzCamera:
    def __init__(self, server: Any, camera_id: str, scene: Path) -> None:
        self.camera_id = camera_id
        self.server = server
        self.server.get_thread_pool().set_max_threads(4)
        size = _png_size(scene)
        self.state = PtzState(*size)
        self._crops: list[Any] = []  # the videocrop of every live media
        self._lock = threading.Lock()
        self._applied: tuple[int, int, int, int] | None = None
        mounts = self.server.get_mount_points()
        for profile, (w, h, kbps) in PROFILES.items():
            factory = GstRtspServer.RTSPMediaFactory()
            bw, bh = w // BALL_FRACTION, h // BALL_FRACTION
            factory.set_launch(
                _MEDIA_LAUNCH.format(
                    scene=_quote(scene),
                    fps=FPS,
                    w=w,
                    h=h,
                    kbps=kbps,
                    bw=bw,
                    bh=bh,
                    bx=w - bw,
                    by=h - bh,
                )
            )
            factory.set_shared(True)
            factory.connect("media-configure", self._on_media_configure)
            mounts.add_factory(f"/{camera_id}/{profile}", factory)
        GLib.timeout_add(1000 // FPS, self._tick)  # runs once the main loop does

    def _on_media_configure(self, _factory: Any, media: Any) -> None:
        crop = media.get_element().get_by_name("crop")
        self._apply(crop, self.state.window())
        with self._lock:
            self._crops.append(crop)
        media.connect("unprepared", lambda _m: self._forget(crop))

    def _forget(self, crop: Any) -> None:
        with self._lock:
            if crop in self._crops:
                self._crops.remove(crop)

    @staticmethod
    def _apply(crop: Any, window: tuple[int, int, int, int]) -> None:
        for name, value in zip(("left", "right", "top", "bottom"), window, strict=True):
            crop.set_property(name, value)

    def _tick(self) -> bool:
        window = self.state.window()
        if window != self._applied:
            self._applied = window
            with self._lock:
                crops = list(self._crops)
            for crop in crops:
                self._apply(crop, window)
        return True

    def handle(self, cmd: str, args: list[str], line: str) -> str:
        if cmd in ("stop", "position") and args:
            return f"ERR {cmd} takes no arguments"
        if cmd == "stop":
            self.state.velocity(0, 0, 0)
            return "OK stop"
        if cmd == "position":
            p, t, z = self.state.position()
            return f"POSITION {p:.4f} {t:.4f} {z:.4f}"
        if cmd in ("velocity", "goto"):
            try:
                p, t, z = _three(args, cmd)
            except ValueError as exc:
                return f"ERR {exc}"
            if cmd == "velocity":
                if not all(-1 <= v <= 1 for v in (p, t, z)):
                    return "ERR velocity: each value must be in [-1, 1]"
                self.state.velocity(p, t, z)
            else:
                if not (-1 <= p <= 1 and -1 <= t <= 1 and 0 <= z <= 1):
                    return "ERR goto: pan, tilt in [-1, 1], zoom in [0, 1]"
                self.state.goto(p, t, z)
            self._tick()
            return f"OK {cmd}"
        return f"ERR bad command {line.strip()!r}"


def _three(args: list[str], cmd: str) -> tuple[float, float, float]:
    if len(args) != 3:
        raise ValueError(f"{cmd}: expected 3 numbers, got {len(args)}")
    try:
        values = tuple(float(a) for a in args)
    except ValueError:
        raise ValueError(f"{cmd}: not numbers: {' '.join(args)!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{cmd}: values must be finite")
    return values  # type: ignore[return-value]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"ptz_camera: {path} is not a PNG file")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _quote(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(argv: list[str] | None = None) -> int:
    global Gst, GLib, GstRtspServer
    parser = argparse.ArgumentParser(description="Simulated PTZ camera (RTSP)")
    parser.add_argument("--port", type=int, default=0, help="0 = choose a free port")
    parser.add_argument(
        "--scene", type=Path, required=True, help="large PNG the camera looks at"
    )
    parser.add_argument("--camera-id", required=True)
    args = parser.parse_args(argv)
    # Run as a plain file, outside the console package: the helper sits next to this script.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gst_server_common as common

    common.setup_logging()
    if not args.scene.is_file():
        raise SystemExit(f"ptz_camera: --scene {args.scene}: not a file")
    if not args.camera_id or "/" in args.camera_id:
        raise SystemExit(
            f"ptz_camera: --camera-id {args.camera_id!r}: must be non-empty, no '/'"
        )

    Gst, GLib, GstRtspServer = common.load_gi()
    server = common.rtsp_server(GstRtspServer, args.port)
    cam = PtzCamera(server, args.camera_id, args.scene.resolve())
    common.serve_stdin(GLib, common.listen(server, "ptz_camera"), cam.handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
