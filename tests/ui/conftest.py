"""UI tests: real widgets, real libVLC, under an X server with QT_QPA_PLATFORM=xcb.

The display is the session's Xvfb started by tests/conftest.py (tests/support/xvfb.py) before
any QApplication exists; pytest-qt creates the QApplication lazily at the first Qt test.
"""
from __future__ import annotations

import gc
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/ui is on sys.path (no __init__.py): helper modules are imported by their unique names
from wall_streams import MAIN_OF, SUB_COLOURS, HttpTsStreams, Resolver, StreamSpec

# --- streams ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def streams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpTsStreams]:
    # reused across runs: encoding is the slow part
    clip_dir = Path(os.environ.get("RTCC_CACHE_DIR") or tempfile.gettempdir()) / "wall-clips"
    clip_dir.mkdir(parents=True, exist_ok=True)
    specs = [StreamSpec(c) for c in SUB_COLOURS]
    specs += [StreamSpec(SUB_COLOURS[i], 640, 360) for i in MAIN_OF]
    s = HttpTsStreams(specs, clip_dir)
    yield s
    s.close()


@pytest.fixture
def live_streams(streams: HttpTsStreams) -> Iterator[HttpTsStreams]:
    """The session's streams; any the test stopped are started again afterwards."""
    yield streams
    for i in range(len(streams)):
        streams.start(i)


@pytest.fixture
def resolver(live_streams: HttpTsStreams) -> Resolver:
    return Resolver(live_streams)


# --- leaks: players, timers, task threads -----------------------------------------------------------

def _settle(qapp: object) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()


@pytest.fixture(autouse=True)
def no_leaks(qapp: object) -> Iterator[None]:
    """Fail a test that leaves a libVLC player, an active QTimer or a task thread behind."""
    from PySide6.QtCore import QTimer

    from ui import tasks
    from ui.wall import video

    yield
    _settle(qapp)
    problems = []
    deadline = time.monotonic() + 10
    while tasks.manager().pending and time.monotonic() < deadline:
        _settle(qapp)
        time.sleep(0.02)  # poll-until-condition helper
    if tasks.manager().pending:
        problems.append(f"{tasks.manager().pending} background task(s) still pending")
    tasks.shutdown(wait=True)
    _settle(qapp)
    threads = [t.name for t in threading.enumerate() if t.name.startswith(tasks.THREAD_PREFIX)]
    if threads:
        problems.append(f"task threads still running: {threads}")
    if video.live_player_count():
        problems.append(f"{video.live_player_count()} libVLC player(s) not released")
    gc.collect()
    timers = [t for t in gc.get_objects() if isinstance(t, QTimer) and _alive(t) and t.isActive()]
    if timers:
        problems.append(f"{len(timers)} QTimer(s) still running: "
                        f"{[t.parent().__class__.__name__ for t in timers]}")
        for t in timers:
            t.stop()
    assert not problems, "; ".join(problems)


def _alive(obj: object) -> bool:
    import shiboken6
    return shiboken6.isValid(obj)
