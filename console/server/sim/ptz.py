"""Venv-side handle on the simulated PTZ camera (ptz_camera.py run by the system Python).

``SimPtzCamera`` starts the RTSP process and speaks its stdin protocol; ``SimPtzDriver`` is
the server's ``PtzDriver`` for it. The scene (a 3840x2160 PNG: colour gradient, labelled
grid, coloured landmarks, so any window of it is recognisable) is rendered once by ffmpeg
and cached.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Self

from console.model.ptz import PtzPosition
from console.server.sim.child import ScriptProcess, SimCameraError, check_system_gi
from console.server.sim.clips import FONT

log = logging.getLogger("rtcc.sim.ptz")

CAMERA_SCRIPT = Path(__file__).with_name("ptz_camera.py")
SCENE_SIZE = (3840, 2160)
_GRID = 240
# (x, y, colour) of the landmark boxes; irregular so no two windows look alike.
LANDMARKS = (
    (300, 500, "red"),
    (1100, 260, "lime"),
    (1700, 1300, "orange"),
    (2500, 700, "magenta"),
    (3300, 1600, "cyan"),
    (900, 1700, "white"),
    (2100, 1900, "blue"),
    (3500, 300, "yellow"),
    (2900, 1200, "pink"),
    (600, 1100, "purple"),
)
HOME = PtzPosition(pan=0.0, tilt=0.0, zoom=0.0)


def _scene_filter() -> str:
    w, h = SCENE_SIZE
    parts = [
        f"nullsrc=s={w}x{h}",
        "geq=r='40+X*150/W':g='30+Y*120/H':b='110-X*60/W'",
        f"drawgrid=w={_GRID}:h={_GRID}:t=4:c=white@0.5",
    ]
    for col in range(w // _GRID):
        for row in range(h // _GRID):
            parts.append(
                f"drawtext=fontfile={FONT}:text={chr(65 + col)}{row}:x={col * _GRID + 20}:"
                f"y={row * _GRID + 20}:fontsize=64:fontcolor=yellow"
            )
    for i, (x, y, colour) in enumerate(LANDMARKS):
        parts.append(
            f"drawbox=x={x}:y={y}:w={90 + i * 13}:h={70 + i * 7}:c={colour}:t=fill"
        )
    return ",".join(parts)


def ensure_scene(cache_dir: Path) -> Path:
    """The scene PNG in cache_dir (rendered with ffmpeg on first use; named by its recipe)."""
    recipe = _scene_filter()
    path = (
        Path(cache_dir)
        / f"ptz_scene_{hashlib.sha256(recipe.encode()).hexdigest()[:12]}.png"
    )
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ptz_scene-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-y",
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                recipe,
                "-frames:v",
                "1",
                tmp,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise SimCameraError(
                f"ffmpeg could not render the PTZ scene: {proc.stderr.strip()[-500:]}"
            )
        os.replace(tmp, path)  # atomic: concurrent starters never see half a file
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


class SimPtzCamera:
    """rtsp://127.0.0.1:<port>/<camera_id>/{sub,main} of a window moving over the scene."""

    def __init__(self, camera_id: str, cache_dir: Path, port: int = 0) -> None:
        if not camera_id or "/" in camera_id:
            raise ValueError(f"SimPtzCamera: bad camera_id {camera_id!r}")
        self.camera_id = camera_id
        self.cache_dir = Path(cache_dir)
        self.port = port
        self._child = ScriptProcess(CAMERA_SCRIPT, f"SimPtzCamera {camera_id}")

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> SimPtzCamera:
        if self._child.pid is not None:
            raise SimCameraError("SimPtzCamera.start: already started")
        check_system_gi()
        scene = ensure_scene(self.cache_dir)
        self.port = self._child.start(
            ["--port", str(self.port), "--scene", str(scene), "--camera-id", self.camera_id],
            timeout,
        )
        log.info(
            "simulated PTZ camera %s on rtsp://127.0.0.1:%d", self.camera_id, self.port
        )
        return self

    def stop(self) -> None:
        """End the camera process (EOF on stdin, then SIGKILL to its group); idempotent."""
        self._child.close()

    def __enter__(self) -> Self:
        return self.start() if self._child.pid is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._child.pid

    # -- control -----------------------------------------------------------------------------
    def url(self, profile: str = "sub") -> str:
        if profile not in ("main", "sub"):
            raise KeyError(f"SimPtzCamera: unknown profile {profile!r}")
        return f"rtsp://127.0.0.1:{self.port}/{self.camera_id}/{profile}"

    def velocity(self, pan: float, tilt: float, zoom: float) -> None:
        self._command(f"velocity {pan:.4f} {tilt:.4f} {zoom:.4f}", "OK velocity")

    def halt(self) -> None:
        self._command("stop", "OK stop")

    def goto(self, pan: float, tilt: float, zoom: float) -> None:
        self._command(f"goto {pan:.4f} {tilt:.4f} {zoom:.4f}", "OK goto")

    def position(self) -> PtzPosition:
        reply = self._command("position", "POSITION ")
        _, p, t, z = reply.split()
        return PtzPosition(pan=float(p), tilt=float(t), zoom=float(z))

    def _command(self, text: str, expect: str, timeout: float = 10) -> str:
        return self._child.command(text, expect, timeout)


class SimPtzDriver:
    """``PtzDriver`` for a SimPtzCamera (blocking calls; the server runs them in a thread)."""

    def __init__(self, camera: SimPtzCamera, home: PtzPosition = HOME) -> None:
        self.camera = camera
        self.home_position = home

    def move(self, pan: float, tilt: float, zoom: float) -> None:
        self.camera.velocity(pan, tilt, zoom)

    def stop(self) -> None:
        self.camera.halt()

    def goto(self, position: PtzPosition) -> None:
        self.camera.goto(position.pan, position.tilt, position.zoom)

    def home(self) -> None:
        self.goto(self.home_position)

    def position(self) -> PtzPosition:
        return self.camera.position()


# The demo world's PTZ camera: a simulated pole camera at Hollywood & Highland (LAPD
# Hollywood Area), the 17th camera of the demo.
DEMO_PTZ_ID = "sim-ptz-01"
DEMO_PTZ = {
    "id": DEMO_PTZ_ID, "name": "Hollywood Blvd & Highland Ave (simulated PTZ)",
    "owner_agency": "LAPD (simulated)", "division": 6, "division_name": "Hollywood",
    "lat": 34.1017, "lon": -118.3387, "heading_deg": 180.0, "fov_deg": 60.0, "range_m": 250.0,
    "source": "simulator",
    "ptz": {"pan_tilt": True, "zoom": True, "presets": True, "home": True},
}


def demo_ptz_camera_in(camera: SimPtzCamera) -> Any:
    """The CameraIn that seeds the demo PTZ camera (sources = the running simulator)."""
    from console.model import StreamInfo
    from console.server.routers.cameras import CameraIn

    streams = [StreamInfo(profile="main", width=1280, height=720, fps=15),
               StreamInfo(profile="sub", width=640, height=360, fps=15)]
    return CameraIn(**DEMO_PTZ, streams=streams,
                    sources={p: camera.url(p) for p in ("main", "sub")})


def register_ptz_camera(app: Any, camera: SimPtzCamera, camera_id: str = DEMO_PTZ_ID) -> None:
    """Give the app's PtzService a driver for the simulated camera (after create_app)."""
    app.state.ptz.register_driver(camera_id, SimPtzDriver(camera))
