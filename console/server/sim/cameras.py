"""Venv-side handle on the simulated RTSP cameras (rtsp_server.py run by the system Python)."""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from console.server.sim.clips import PROFILES, SimCameraSpec, ensure_clips

log = logging.getLogger("rtcc.sim")

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
_GI_PACKAGES = "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
_GI_CHECK = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
    "from gi.repository import Gst, GstRtspServer"
)


class SimCameraError(RuntimeError):
    pass


def check_system_gi(python: str = SYSTEM_PYTHON) -> None:
    """Raise SimCameraError naming the Debian packages when the system Python lacks GstRtspServer."""
    try:
        proc = subprocess.run(
            [python, "-c", _GI_CHECK],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SimCameraError(
            f"{python} not found; the RTSP simulator needs the system Python 3"
        ) from exc
    if proc.returncode != 0:
        raise SimCameraError(
            f"{python} cannot import gi/GstRtspServer ({proc.stderr.strip().splitlines()[-1:]}); "
            f"install: apt-get install {_GI_PACKAGES}"
        )


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
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._config_file: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> None:
        if self._proc is not None:
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
        self._proc = subprocess.Popen(
            [
                SYSTEM_PYTHON,
                str(SERVER_SCRIPT),
                "--port",
                str(self.port),
                "--config",
                name,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,  # own process group: close() kills it and anything it spawned
        )
        threading.Thread(
            target=self._read_stdout, name="rtsp-sim-stdout", daemon=True
        ).start()
        try:
            line = self._next_line(timeout, "READY")
            if not line.startswith("READY "):
                raise SimCameraError(
                    f"rtsp_server.py: expected 'READY <port>', got {line!r}"
                )
            self.port = int(line.split()[1])
        except BaseException:
            self.close()
            raise
        log.info(
            "simulated cameras listening on rtsp://127.0.0.1:%d (%d mounts)",
            self.port,
            len(mounts),
        )

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.close()  # EOF = exit
                proc.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired):
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self._config_file is not None:
            self._config_file.unlink(missing_ok=True)
            self._config_file = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        t: type[BaseException] | None,
        e: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
        return self._proc.pid if self._proc else None

    def _check(self, camera_id: str, profile: str | None = None) -> None:
        if camera_id not in {s.camera_id for s in self.specs}:
            raise KeyError(f"SimCameraServer: unknown camera_id {camera_id!r}")
        if profile is not None and profile not in PROFILES:
            raise KeyError(f"SimCameraServer: unknown profile {profile!r}")

    def _command(self, text: str, expect: str, timeout: float = 10) -> str:
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None:
                raise SimCameraError(f"SimCameraServer: not running (command {text!r})")
            proc.stdin.write(text + "\n")
            proc.stdin.flush()
            reply = self._next_line(timeout, text)
        if not reply.startswith(expect):
            raise SimCameraError(f"rtsp_server.py: {text!r} -> {reply!r}")
        return reply

    def _next_line(self, timeout: float, what: str) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise SimCameraError(
                f"rtsp_server.py: no reply to {what!r} within {timeout} s"
            ) from None
        if line is None:
            code = self._proc.poll() if self._proc else None
            raise SimCameraError(
                f"rtsp_server.py exited (code {code}) while waiting for {what!r}"
            )
        return line

    def _read_stdout(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        try:
            for line in proc.stdout:
                self._lines.put(line.strip())
        except (OSError, ValueError):
            pass
        self._lines.put(None)
