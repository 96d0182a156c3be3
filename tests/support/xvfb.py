"""One Xvfb for the test session (video and map tests need a real X server: libVLC draws into
native windows, and pixels are read back from the X server)."""
from __future__ import annotations

import os
import signal
import subprocess
import time

_proc: subprocess.Popen[bytes] | None = None


def start(size: str = "1920x1080x24", timeout: float = 20.0) -> str:
    """Start Xvfb on a free display (it reports the number itself: -displayfd) and return ':N'."""
    global _proc
    read_fd, write_fd = os.pipe()
    _proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + timeout
    with os.fdopen(read_fd, "rb") as pipe:
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = pipe.read(1)  # Xvfb writes "<n>\n" once it accepts connections
            if not chunk:
                break
            number += chunk
    if not number.strip():
        stop()
        raise RuntimeError(f"Xvfb did not report a display number within {timeout} s")
    return f":{number.decode().strip()}"


def stop() -> None:
    global _proc
    if _proc is not None:
        try:
            os.killpg(_proc.pid, signal.SIGTERM)
            _proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(_proc.pid, signal.SIGKILL)
        _proc = None
