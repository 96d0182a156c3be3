"""Run an ASGI app with uvicorn in a background thread (demo, tests, ``serve``).

The socket is bound here before the thread starts, so port 0 gives a free port that is
known at once; ``start()`` returns when the app's lifespan startup has finished.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

log = logging.getLogger("rtcc.server")


class ServerStartError(RuntimeError):
    pass


class ServerHandle:
    def __init__(self, app, host: str = "127.0.0.1", port: int = 0,  # noqa: ANN001 - ASGI app
                 access_log: bool = False) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self._config = uvicorn.Config(app, host=host, port=port, log_config=None,
                                      access_log=access_log, lifespan="on",
                                      timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(self._config)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerHandle:
        if self._thread is not None:
            raise RuntimeError("ServerHandle.start() called twice")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so; without it
        # every keep-alive reply waited ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as exc:
            sock.close()
            raise ServerStartError(f"cannot bind {self.host}:{self.requested_port}: {exc}") from exc
        sock.set_inheritable(True)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            alive = self._thread.is_alive()
            if not alive or time.monotonic() > deadline:
                self.stop()
                # the app's own startup exception says more than uvicorn's SystemExit(3)
                cause = getattr(getattr(self.app, "state", None), "startup_error", None) \
                    or self._error
                what = "did not start in time" if alive else "failed to start"
                raise ServerStartError(f"server on {self.host}:{self.port} {what}: "
                                       f"{cause!r}") from cause
            time.sleep(0.01)  # poll-until-condition
        log.info("serving on %s", self.url)
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # SystemExit from a failed lifespan, or a crash
            self._error = exc

    def stop(self, timeout: float = 15.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            # e.g. end SSE streams, or the graceful shutdown waits for them to time out
            for hook in getattr(getattr(self.app, "state", None), "stop_hooks", ()):
                hook()
            self._server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                self._server.force_exit = True
                thread.join(timeout)
            if thread.is_alive():
                log.error("uvicorn thread %s did not stop", thread.name)
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> ServerHandle:
        return self.start() if self._thread is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
