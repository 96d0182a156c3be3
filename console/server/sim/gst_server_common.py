"""What the system-Python simulator scripts (rtsp_server.py, ptz_camera.py) share: gi setup, the
RTSP server on 127.0.0.1, and the stdin/stdout line protocol (see either script's docstring).

The scripts import this from their main() only, after putting their own directory on sys.path
(they run as plain files under /usr/bin/python3, outside the console package). gi is imported
inside load_gi(), so importing this module from the app venv stays gi-free.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any


def setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )


def load_gi() -> tuple[Any, Any, Any]:
    """(Gst, GLib, GstRtspServer) from the system gi, Gst initialised."""
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    return Gst, GLib, GstRtspServer


def rtsp_server(gst_rtsp_server: Any, port: int) -> Any:
    """An RTSPServer for 127.0.0.1:<port> (0 = a free port), not yet listening."""
    server = gst_rtsp_server.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    return server


def listen(server: Any, script: str) -> int:
    """Attach the server to the default main context; the bound port."""
    if server.attach(None) == 0:
        raise RuntimeError(f"{script}: cannot listen on 127.0.0.1:{server.get_service()}")
    return int(server.get_bound_port())


def reply(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def serve_stdin(glib: Any, port: int, handle: Callable[[str, list[str], str], str]) -> None:
    """Print ``READY <port>``, then answer each stdin line on the GLib main loop with
    handle(command, args, line) until ``quit`` (answered ``BYE``) or stdin EOF (the parent is
    gone: never leave an orphan). Empty lines get ``ERR empty command``."""
    main_loop = glib.MainLoop()

    def on_line(line: str | None) -> bool:
        if line is None:
            main_loop.quit()
            return False
        parts = line.split()
        if not parts:
            reply("ERR empty command")
        elif parts == ["quit"]:
            reply("BYE")
            main_loop.quit()
        else:
            reply(handle(parts[0], parts[1:], line))
        return False

    def read_stdin() -> None:
        for line in sys.stdin:
            glib.idle_add(on_line, line)
        glib.idle_add(on_line, None)

    threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
    reply(f"READY {port}")
    main_loop.run()
