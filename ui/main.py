"""``rtcc-console``: the Qt-free commands of console.cli plus the GUI commands
``run`` (against a configured backend) and ``demo`` (embedded reference backend and
simulated cameras, signed in as the demo operator)."""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from console import cli, config
from console.api.client import BackendClient
from console.store import LocalStore

log = logging.getLogger("rtcc.main")
READY_TIMEOUT_MS = 30_000


def _store() -> LocalStore:
    return LocalStore(config.data_dir() / "console.sqlite")


def _quit_on_signals(app) -> None:
    from PySide6.QtCore import QTimer
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    # Python runs signal handlers only when it gets control: tick it.
    tick = QTimer(app, interval=250)
    tick.timeout.connect(lambda: None)
    tick.start()


def _when_tiles_play(console_app, on_done, started: float) -> None:
    """Call on_done(elapsed_s, all_playing) once every tile with a camera plays (or on timeout)."""
    from PySide6.QtCore import QTimer
    timer = QTimer(console_app, interval=100)

    def check() -> None:
        tiles = [t for t in console_app.tiles() if t.camera is not None]
        playing = tiles and all(t.state.value == "playing" for t in tiles)
        timed_out = (time.monotonic() - started) * 1000 > READY_TIMEOUT_MS
        if playing or timed_out:
            timer.stop()
            on_done(time.monotonic() - started, bool(playing))

    timer.timeout.connect(check)
    timer.start()


def _run_gui(session, *, screenshot: Path | None, quit_after: float | None, started: float,
             on_close=None) -> int:
    from ui.app import ConsoleApp, ensure_qapp, run_event_loop, save_screenshot
    app = ensure_qapp()
    _quit_on_signals(app)

    def ready(console_app: ConsoleApp) -> None:
        def played(elapsed: float, ok: bool) -> None:
            n = len([t for t in console_app.tiles() if t.camera is not None])
            print(f"rtcc-console: {'all' if ok else 'NOT all'} {n} tiles playing "
                  f"{elapsed:.1f} s after start", flush=True)
            if screenshot:
                print(f"rtcc-console: screenshot saved to {save_screenshot(screenshot)}", flush=True)
            if quit_after is not None:
                from PySide6.QtCore import QTimer

                def finish() -> None:  # report before quit(): Qt 6 closes the windows first
                    tiles = [t for t in console_app.tiles() if t.camera is not None]
                    playing = sum(t.state.value == "playing" for t in tiles)
                    print(f"rtcc-console: at quit {playing}/{len(tiles)} tiles playing", flush=True)
                    app.quit()
                QTimer.singleShot(int(quit_after * 1000), finish)
        _when_tiles_play(console_app, played, started)

    console_app = ConsoleApp(session, on_ready=ready)
    app.aboutToQuit.connect(console_app.close)
    console_app.start()
    try:
        return run_event_loop(app)
    finally:
        from ui import tasks
        from ui.wall.video import release_instance
        tasks.shutdown(wait=True)
        session.close()
        release_instance()
        if on_close:
            on_close()


def _cmd_demo(args: argparse.Namespace) -> int:
    from console.server.demo_world import DemoWorld
    from console.session import ConsoleSession
    started = time.monotonic()
    password = os.environ.get("RTCC_DEMO_PASSWORD") or secrets.token_urlsafe(12)
    world = DemoWorld()
    world.start(cache_dir=config.cache_dir(), password=password,
                db_url=args.db or f"sqlite:///{config.data_dir() / 'demo-server.sqlite'}",
                camera_count=args.cameras)
    try:
        print(f"rtcc-console: demo backend at {world.server_url} (users: operator, supervisor, "
              f"trainer, auditor, admin{'' if os.environ.get('RTCC_DEMO_PASSWORD') else '; password ' + password})",
              flush=True)
        client = BackendClient(world.server_url, timeout=5)
        session = ConsoleSession(client, _store(), station_id="demo-1", username="operator",
                                 password=password)
        return _run_gui(session, screenshot=args.screenshot, quit_after=args.quit_after,
                        started=started)
    finally:
        world.stop()


def _cmd_run(args: argparse.Namespace) -> int:
    from console.api import credentials
    from console.session import ConsoleSession
    from ui.app import ensure_qapp
    from ui.dialogs.login import LoginDialog
    settings = config.load()
    url = args.server or settings.server.url
    user = args.username or settings.server.username
    password = credentials.load_password(url, user) if user else None
    if not password:
        ensure_qapp()
        dialog = LoginDialog(url, user)
        if not dialog.exec():
            return 1
        entry = dialog.value()
        url, user, password = entry.server_url, entry.username, entry.password
        if entry.remember:
            try:
                credentials.save_password(url, user, password)
            except credentials.NoSecureStore as exc:
                log.warning("%s", exc)
    client = BackendClient(url, verify=settings.tls_verify(), timeout=settings.server.timeout_s)
    session = ConsoleSession(client, _store(), station_id=args.station or settings.station.id,
                             username=user, password=password)
    return _run_gui(session, screenshot=None, quit_after=None, started=time.monotonic())


def _add_gui_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("run", help="open the console against the configured backend")
    s.add_argument("--server", default=None)
    s.add_argument("--username", default=None)
    s.add_argument("--station", default=None)
    s.set_defaults(func=_cmd_run)

    s = sub.add_parser("demo", help="embedded reference backend + simulated cameras + the console")
    s.add_argument("--cameras", type=int, default=16)
    s.add_argument("--db", default=None, help="backend database URL (default: SQLite in the data dir)")
    s.add_argument("--screenshot", type=Path, default=None, help="save a screenshot once all tiles play")
    s.add_argument("--quit-after", type=float, default=None,
                   help="quit this many seconds after all tiles play")
    s.set_defaults(func=_cmd_demo)


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, cli.build_parser(_add_gui_commands))


if __name__ == "__main__":
    sys.exit(main())
