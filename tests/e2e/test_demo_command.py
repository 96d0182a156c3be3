"""`rtcc-console demo` as a user runs it, on the production path (qasync event loop, this
interpreter): everything plays, keeps playing for half a minute while the live world (ALPR
feed, alerts, recorder, PTZ camera) runs, and quitting leaves no process behind."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import psutil
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_demo_plays_and_leaves_no_orphans(tmp_path):
    env = dict(os.environ, RTCC_DEMO_PASSWORD="demo-test-pass", RTCC_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.main", "demo", "--cameras", "9", "--quit-after", "30",
         "--screenshot", str(tmp_path / "shot.png")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(120, proc.kill)  # a hung demo fails the test instead of CI
    watchdog.start()
    lines, descendants = [], []
    try:
        for line in proc.stdout:
            lines.append(line.strip())
            if "tiles playing" in line:
                # what the demo started: simulated cameras, the PTZ camera, ffmpeg upstreams
                descendants = psutil.Process(proc.pid).children(recursive=True)
        assert proc.wait() == 0, lines
    finally:
        watchdog.cancel()
    assert any("all 9 tiles playing" in line for line in lines), lines
    assert "rtcc-console: at quit 9/9 tiles playing" in lines, lines
    assert (tmp_path / "shot.png").stat().st_size > 10_000
    assert len(descendants) >= 3, "the demo runs its simulators and gateway upstreams as processes"
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left running after the demo quit: {[p.cmdline()[:3] for p in alive]}"
