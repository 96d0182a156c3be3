"""``rtcc-console serve``: the reference server in the foreground until Ctrl-C / SIGTERM."""
from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from console.logsafe import SecretMaskFilter, mask_url
from console.server.app import create_app
from console.server.runner import ServerHandle, ServerStartError
from console.server.settings import ServerSettings

log = logging.getLogger("rtcc.server")


def _wait_for_signal() -> None:
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(1.0):  # wake up now and then so signals are handled promptly
            pass
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def bootstrap_admin(db_url: str) -> str | None:
    """On a database with no users, create "admin" (password $RTCC_ADMIN_PASSWORD or a
    random one) and return the password if it was generated, so it can be shown once."""
    import os
    import secrets

    from sqlalchemy import func, select

    from console.model import Role
    from console.server import auth, db

    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(db.users)).scalar():
                return None
        given = os.environ.get("RTCC_ADMIN_PASSWORD")
        password = given or secrets.token_urlsafe(12)
        auth.put_user(engine, "admin", Role.admin, password, "Administrator")
        log.info("no users: created 'admin'")
        return None if given else password
    finally:
        engine.dispose()


def serve_main(host: str, port: int, db_url: str | None, demo: bool, cache_dir: Path) -> int:
    """Run until Ctrl-C/SIGTERM; 0 on a clean stop, 1 if the server cannot start."""
    logging.getLogger("uvicorn.access").addFilter(SecretMaskFilter())  # tokens in request lines
    if demo:
        from console.server.demo_world import DemoWorld
        world = DemoWorld()
        try:
            world.start(Path(cache_dir), db_url=db_url, host=host, port=port)
        except (ServerStartError, OSError, RuntimeError, ValueError) as exc:
            print(f"rtcc-console serve --demo: {exc}", file=sys.stderr)
            return 1
        # Protocol lines for the operator (not log lines): where to connect and how.
        print(f"demo server: {world.server_url}", flush=True)
        if world.passwords_generated:
            for user, pw in world.passwords.items():
                print(f"  user {user:<10} password {pw}", flush=True)
        else:
            print("  users operator/supervisor/trainer/auditor/admin, password from "
                  "RTCC_DEMO_PASSWORD", flush=True)
        try:
            _wait_for_signal()
        finally:
            world.stop()
        return 0

    settings = ServerSettings.from_env(host=host, port=port, db_url=db_url)
    generated = bootstrap_admin(settings.db_url)
    handle = ServerHandle(create_app(settings), host=host, port=port, access_log=True)
    try:
        handle.start()
    except ServerStartError as exc:
        print(f"rtcc-console serve: {exc}", file=sys.stderr)
        return 1
    print(f"server: {handle.url} (db {mask_url(settings.db_url)})", flush=True)
    if generated:
        print(f"  first start: user admin password {generated} (shown once)", flush=True)
    try:
        _wait_for_signal()
    finally:
        handle.stop()
    return 0
