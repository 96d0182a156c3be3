"""Suite-wide set-up: isolated settings/data dirs, in-memory keyring, Qt/WebEngine flags.

The Xvfb display for video and map tests is started here (one per session) when the
suite has no DISPLAY of its own, so `make test` needs no display.
"""
from __future__ import annotations

import os
import pathlib
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def pytest_configure(config):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="rtcc-test-"))
    os.environ["RTCC_CONFIG"] = str(tmp / "settings.toml")
    os.environ["RTCC_DATA_DIR"] = str(tmp / "data")
    # Clips are expensive to encode and identical between runs: keep them in the checkout (gitignored).
    os.environ.setdefault("RTCC_CACHE_DIR", str(ROOT / "var" / "cache"))
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.memkeyring.MemoryKeyring"
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
    import keyring

    from tests.support.memkeyring import MemoryKeyring
    keyring.set_keyring(MemoryKeyring())
    if not os.environ.get("DISPLAY"):
        from tests.support import xvfb
        os.environ["DISPLAY"] = xvfb.start()
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.setdefault("XDG_RUNTIME_DIR", str(tmp / "xdg"))
    (tmp / "xdg").mkdir(mode=0o700, exist_ok=True)


def pytest_unconfigure(config):
    from tests.support import xvfb
    xvfb.stop()


@pytest.fixture(autouse=True)
def dev_null_is_intact():
    """Canary: something once replaced /dev/null with a plain file, which broke runuser,
    initdb and every later subprocess. Name the test that does it."""
    yield
    import stat
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "this test replaced /dev/null"


@pytest.fixture
def shared_data() -> pathlib.Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the suite's real data lives in ../shared/data")
    return SHARED_DATA
