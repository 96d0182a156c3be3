"""ServerHandle: real port, clean stop, clear start failures."""
from __future__ import annotations

import socket
import threading

import httpx
import pytest
from fastapi import FastAPI

from console.server.runner import ServerHandle, ServerStartError


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_port_zero_gives_a_real_port_and_stop_frees_it() -> None:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> str:
        return "pong"
    before = _threads()
    with ServerHandle(app) as h:
        assert h.port and h.url == f"http://127.0.0.1:{h.port}"
        assert httpx.get(f"{h.url}/ping", timeout=5).json() == "pong"
        port = h.port
    assert _threads() == before  # the uvicorn thread is joined
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass


def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ServerStartError, match="cannot bind"):
            ServerHandle(FastAPI(), port=busy.getsockname()[1]).start()


def test_failing_lifespan_is_reported() -> None:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def broken(_app: FastAPI):  # noqa: ANN202
        raise RuntimeError("db is on fire")
        yield

    before = _threads()
    with pytest.raises(ServerStartError, match="failed to start"):
        ServerHandle(FastAPI(lifespan=broken)).start(timeout=10)
    assert _threads() == before
