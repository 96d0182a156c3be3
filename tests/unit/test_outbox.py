"""The durable outbox against a real server: writes queued while the server is down land
exactly once when it returns, also when replies are lost after the server committed (a
proxy cuts them) or the client restarts mid-delivery; final refusals go to the dead-letter
table; items survive a restart."""
from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console.api.client import BackendClient
from console.api.outbox import Outbox, client_sender, is_final
from console.model import Role
from console.server import db
from console.server.app import create_app
from console.server.routers.cameras import CameraIn, put_camera
from console.server.runner import ServerHandle
from console.server.settings import ServerSettings
from tests.media.test_ptz_camera import wait_until
from tests.server.conftest import password_of, seed_users
from tests.server.test_cameras import camera_body

CAM = "outbox-cam"


def bookmark(title: str) -> dict:
    return {"camera_id": CAM, "start": "2025-06-01T12:00:00Z", "end": "2025-06-01T12:01:00Z",
            "title": title}


def token(url: str, role: Role) -> str:
    r = httpx.post(f"{url}/api/v1/auth/login",
                   json={"username": role.value, "password": password_of(role)}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    """A real server on a fixed port that can be down, then up."""

    def __init__(self, tmp: Path) -> None:
        self.settings = ServerSettings(db_url=f"sqlite:///{tmp / 'server.db'}", port=0)
        seed_users(self.settings.db_url)
        engine = db.make_engine(self.settings.db_url)
        try:
            put_camera(engine, CameraIn.model_validate(camera_body(CAM)))
        finally:
            engine.dispose()
        self.port = free_port()
        self.handle: ServerHandle | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.handle = ServerHandle(create_app(self.settings), port=self.port).start()
        self.auditor = token(self.url, Role.auditor)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.handle = None

    def titles(self, prefix: str) -> list[str]:
        with httpx.Client(base_url=self.url, timeout=10,
                          headers={"Authorization": f"Bearer {self.auditor}"}) as c:
            r = c.get("/api/v1/bookmarks", params={"q": prefix, "limit": 1000})
        r.raise_for_status()
        return sorted(b["title"] for b in r.json())


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    b = Backend(tmp_path)
    yield b
    b.stop()


@pytest.fixture
def client(backend: Backend) -> Iterator[BackendClient]:
    c = BackendClient(backend.url, timeout=5, retries=0)
    yield c
    c.close()


def sender(client: BackendClient):
    return client_sender(client, relogin=lambda: client.login("operator", password_of("operator")))


@pytest.fixture
def outboxes() -> Iterator[list[Outbox]]:
    made: list[Outbox] = []
    yield made
    for box in made:
        box.stop()


def test_final_and_retryable_statuses() -> None:
    assert is_final(400) and is_final(403) and is_final(404) and is_final(422)
    assert not any(is_final(s) for s in (0, 401, 408, 429, 500, 502, 503))


def test_bad_writes_are_refused_at_enqueue(tmp_path: Path, outboxes: list[Outbox]) -> None:
    box = Outbox(tmp_path / "o.db", lambda item: None, autostart=False)  # type: ignore[arg-type, return-value]
    outboxes.append(box)
    with pytest.raises(ValueError, match="method 'GET' is not a write"):
        box.enqueue("bookmark", "GET", "/bookmarks", {})
    with pytest.raises(ValueError, match="must start with '/'"):
        box.enqueue("bookmark", "POST", "bookmarks", {})
    with pytest.raises(TypeError):
        box.enqueue("bookmark", "POST", "/bookmarks", {"x": object()})
    assert box.pending() == []


def test_items_survive_a_restart(tmp_path: Path, outboxes: list[Outbox]) -> None:
    first = Outbox(tmp_path / "o.db", lambda item: None, autostart=False)  # type: ignore[arg-type, return-value]
    keys = [first.enqueue("bookmark", "POST", "/bookmarks", bookmark(f"b{i}")) for i in range(3)]
    first.stop()
    second = Outbox(tmp_path / "o.db", lambda item: None, autostart=False)  # type: ignore[arg-type, return-value]
    outboxes.append(second)
    assert [(i.key, i.body["title"]) for i in second.pending()] == [
        (k, f"b{n}") for n, k in enumerate(keys)]


def test_outage_then_exactly_once(backend: Backend, client: BackendClient, tmp_path: Path,
                                  outboxes: list[Outbox]) -> None:
    prefix = f"outage-{uuid.uuid4().hex[:6]}"
    box = Outbox(tmp_path / "o.db", sender(client), backoff_initial=0.05, backoff_max=0.5)
    outboxes.append(box)
    for i in range(5):
        box.enqueue("bookmark", "POST", "/bookmarks", bookmark(f"{prefix}-{i}"))
    wait_until(lambda: box.pending()[0].attempts >= 2, 10, "failed attempts while the server is down")
    assert "ConnectionError" in (box.pending()[0].last_error or "")
    assert len(box.pending()) == 5
    backend.start()
    box.wake()
    wait_until(lambda: not box.pending(), 30, "the outbox to drain")
    assert backend.titles(prefix) == [f"{prefix}-{i}" for i in range(5)]
    assert box.dead() == [] and box.delivered == 5


class CuttingProxy:
    """TCP proxy that drops the server's reply on the first ``cuts`` connections: the
    request reaches the server (which commits), the client sees the connection die."""

    def __init__(self, upstream_port: int, cuts: int) -> None:
        self.upstream_port = upstream_port
        self.cuts = cuts
        self.cut = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept)

    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [conn, up]
            with self._lock:
                drop = self.cut < self.cuts
                self.cut += drop
            self._spawn(self._pump, conn, up, False)
            self._spawn(self._pump, up, conn, drop)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, drop: bool) -> None:
        try:
            while data := src.recv(65536):
                if drop:  # the server answered: it has committed; lose the answer
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()
        for s in self._sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)  # wakes a pump blocked in recv()
            except OSError:
                pass
            s.close()
        for t in self._threads:
            t.join(5)
            assert not t.is_alive(), "proxy thread did not stop"


def test_lost_replies_do_not_duplicate(backend: Backend, tmp_path: Path,
                                       outboxes: list[Outbox]) -> None:
    backend.start()
    proxy = CuttingProxy(backend.port, cuts=3)
    client = BackendClient(f"http://127.0.0.1:{proxy.port}", timeout=5, retries=0)
    client.token = token(backend.url, Role.operator)  # so the cuts hit the POSTs
    prefix = f"cut-{uuid.uuid4().hex[:6]}"
    try:
        box = Outbox(tmp_path / "o.db", sender(client), backoff_initial=0.05, backoff_max=0.5)
        outboxes.append(box)
        for i in range(3):
            box.enqueue("bookmark", "POST", "/bookmarks", bookmark(f"{prefix}-{i}"))
        wait_until(lambda: not box.pending(), 30, "the outbox to drain through the proxy")
        assert proxy.cut == 3
        assert backend.titles(prefix) == [f"{prefix}-{i}" for i in range(3)]
    finally:
        box.stop()
        client.close()
        proxy.close()


def test_restart_after_the_server_committed(backend: Backend, client: BackendClient,
                                            tmp_path: Path, outboxes: list[Outbox]) -> None:
    """The client sent, the server committed, the client died before recording the ack:
    the next outbox on the same file sends again and the server answers with the first."""
    backend.start()
    prefix = f"crash-{uuid.uuid4().hex[:6]}"
    send = sender(client)
    first = Outbox(tmp_path / "o.db", send, autostart=False)
    first.enqueue("bookmark", "POST", "/bookmarks", bookmark(f"{prefix}-0"))
    assert send(first.pending()[0]).status_code == 201  # delivered; ack never recorded
    first.stop()
    second = Outbox(tmp_path / "o.db", send, backoff_initial=0.05)
    outboxes.append(second)
    wait_until(lambda: not second.pending(), 30, "the resent item to be acknowledged")
    assert backend.titles(prefix) == [f"{prefix}-0"]


def test_final_refusal_goes_to_dead_letters(backend: Backend, client: BackendClient,
                                            tmp_path: Path, outboxes: list[Outbox]) -> None:
    backend.start()
    prefix = f"dead-{uuid.uuid4().hex[:6]}"
    box = Outbox(tmp_path / "o.db", sender(client), backoff_initial=0.05)
    outboxes.append(box)
    bad = box.enqueue("bookmark", "POST", "/bookmarks", {**bookmark(prefix), "camera_id": "nope"})
    box.enqueue("bookmark", "POST", "/bookmarks", bookmark(f"{prefix}-ok"))
    wait_until(lambda: not box.pending(), 30, "the outbox to drain")
    [dead] = box.dead()
    assert (dead.item.key, dead.status) == (bad, 422) and "camera_id" in dead.error
    assert backend.titles(prefix) == [f"{prefix}-ok"]  # the later write was not blocked
