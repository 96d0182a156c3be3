"""A simulator script run by the system Python (GStreamer gi works only there), seen from the venv.

The scripts (rtsp_server.py, ptz_camera.py) share one line protocol: ``READY <port>`` on stdout
once listening, then one reply line per stdin command; stdin EOF makes them exit.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import threading
from pathlib import Path

log = logging.getLogger("rtcc.sim")

SYSTEM_PYTHON = "/usr/bin/python3"
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


class ScriptProcess:
    """One run at a time of ``script`` under the system Python, in its own process group.

    ``owner`` names the venv-side object in "not running" errors; protocol errors name the script.
    """

    def __init__(self, script: Path, owner: str) -> None:
        self.script = script
        self.owner = owner
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc else None

    def start(self, args: list[str], timeout: float = 60) -> int:
        """Spawn the script with ``args``, wait for ``READY <port>`` and return the port."""
        if self._proc is not None:
            raise SimCameraError(f"{self.owner}.start: already started")
        self._lines = queue.Queue()  # a fresh queue: no end marker left from an earlier run
        self._proc = proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(self.script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,  # own process group: close() kills it and anything it spawned
        )
        threading.Thread(
            target=self._read_stdout,
            args=(proc, self._lines),
            name=f"{self.script.stem}-stdout",
            daemon=True,
        ).start()
        try:
            line = self._next_line(timeout, "READY")
            if not line.startswith("READY "):
                raise SimCameraError(
                    f"{self.script.name}: expected 'READY <port>', got {line!r}"
                )
            return int(line.split()[1])
        except BaseException:
            self.close()
            raise

    def command(self, text: str, expect: str, timeout: float = 10) -> str:
        """Send one command line; return the reply, which must start with ``expect``."""
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None:
                raise SimCameraError(f"{self.owner}: not running (command {text!r})")
            try:
                proc.stdin.write(text + "\n")
                proc.stdin.flush()
            except OSError as exc:
                raise SimCameraError(f"{self.owner}: {text!r}: {exc}") from exc
            reply = self._next_line(timeout, text)
        if not reply.startswith(expect):
            raise SimCameraError(f"{self.script.name}: {text!r} -> {reply!r}")
        return reply

    def close(self) -> None:
        """End the process (EOF on stdin, then SIGKILL to its group); idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
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

    def _next_line(self, timeout: float, what: str) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise SimCameraError(
                f"{self.script.name}: no reply to {what!r} within {timeout} s"
            ) from None
        if line is None:
            code = self._proc.poll() if self._proc else None
            raise SimCameraError(
                f"{self.script.name} exited (code {code}) while waiting for {what!r}"
            )
        return line

    @staticmethod
    def _read_stdout(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.put(line.strip())
        except (OSError, ValueError):
            pass
        lines.put(None)
