"""Venv-side handle on the simulated RTSP cameras (rtsp_server.py run by the system Python)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Self

from console.server.sim.child import (
    SYSTEM_PYTHON,
    ScriptProcess,
    SimCameraError,
    check_system_gi,
)
from console.server.sim.clips import PROFILES, SimCameraSpec, ensure_clips

__all__ = ["SYSTEM_PYTHON", "SimCameraError", "SimCameraServer", "check_system_gi"]

log = logging.getLogger("rtcc.sim")

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")


class SimCameraServer:
    """Simulated cameras at rtsp://127.0.0.1:<port>/<camera_id>/<main|sub>, looping forever."""

    def __init__(
        self,
        specs: list[SimCameraSpec],
        cache_dir: Path,
        port: int = 0,
        *,
        clip_seconds: int = 20,
    ) -> None:
        if not specs:
            raise ValueError("SimCameraServer: specs is empty")
        self.specs = list(specs)
        self.cache_dir = Path(cache_dir)
        self.port = port
        self.clip_seconds = clip_seconds
        self.clips: dict[tuple[str, str], Path] = {}
        self._child = ScriptProcess(SERVER_SCRIPT, "SimCameraServer")
        self._config_file: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> None:
        if self._child.pid is not None:
            raise SimCameraError("SimCameraServer.start: already started")
        check_system_gi()
        self.clips = ensure_clips(self.specs, self.cache_dir, self.clip_seconds)
        mounts = {
            f"/{cam}/{prof}": str(path) for (cam, prof), path in self.clips.items()
        }
        fd, name = tempfile.mkstemp(prefix="rtsp-sim-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump({"mounts": mounts}, f)
        self._config_file = Path(name)
        try:
            self.port = self._child.start(
                ["--port", str(self.port), "--config", name], timeout
            )
        except BaseException:
            self.close()
            raise
        log.info(
            "simulated cameras listening on rtsp://127.0.0.1:%d (%d mounts)",
            self.port,
            len(mounts),
        )

    def close(self) -> None:
        self._child.close()
        if self._config_file is not None:
            self._config_file.unlink(missing_ok=True)
            self._config_file = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries and control ---------------------------------------------------------------
    def url(self, camera_id: str, profile: str) -> str:
        self._check(camera_id, profile)
        return f"rtsp://127.0.0.1:{self.port}/{camera_id}/{profile}"

    def stop_camera(self, camera_id: str) -> None:
        self._check(camera_id)
        self._command(f"stop {camera_id}", expect="OK ")

    def start_camera(self, camera_id: str) -> None:
        self._check(camera_id)
        self._command(f"start {camera_id}", expect="OK ")

    def sessions(self, camera_id: str, profile: str) -> int:
        self._check(camera_id, profile)
        return int(
            self._command(
                f"sessions /{camera_id}/{profile}", expect="SESSIONS "
            ).split()[2]
        )

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def _check(self, camera_id: str, profile: str | None = None) -> None:
        if camera_id not in {s.camera_id for s in self.specs}:
            raise KeyError(f"SimCameraServer: unknown camera_id {camera_id!r}")
        if profile is not None and profile not in PROFILES:
            raise KeyError(f"SimCameraServer: unknown profile {profile!r}")

    def _command(self, text: str, expect: str, timeout: float = 10) -> str:
        return self._child.command(text, expect, timeout)
