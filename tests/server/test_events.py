"""The event bus and ``GET /api/v1/events`` (SSE) over real HTTP, on both backends:
live fan-out, Last-Event-ID resume with no gap and no duplicate under concurrent
publishers, transactional publishing, heartbeats, and fan-out across two server replicas
sharing one database (PostgreSQL LISTEN/NOTIFY; on SQLite the poll)."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from console.model import Role
from console.server.events import EventBus
from tests.server.conftest import Server, password_of, start_server
from tests.support.sse import Message, SseReader, wait_until


@pytest.fixture(scope="module", autouse=True)
def fast_heartbeat(server: Server) -> Iterator[None]:
    bus: EventBus = server.handle.app.state.events
    old, bus.heartbeat_s = bus.heartbeat_s, 0.2
    yield
    bus.heartbeat_s = old


@pytest.fixture
def bus(server: Server) -> EventBus:
    return server.handle.app.state.events


@pytest.fixture
def reader(server: Server) -> Iterator[Callable[..., SseReader]]:
    started: list[SseReader] = []

    def make(last_event_id: int | None = None, url: str | None = None,
             token: str | None = None) -> SseReader:
        r = SseReader(url or server.url, token or server.tokens[Role.operator], last_event_id)
        started.append(r)
        return r.start()
    yield make
    for r in started:
        r.stop()


def _operator_token(url: str) -> str:
    r = httpx.post(f"{url}/api/v1/auth/login",
                   json={"username": "operator", "password": password_of(Role.operator)})
    r.raise_for_status()
    return r.json()["access_token"]


def _tag() -> str:
    return uuid.uuid4().hex


def _mine(tag: str) -> Callable[[Message], bool]:
    return lambda m: m.data.get("data", {}).get("tag") == tag


def test_live_event_reaches_a_connected_client(bus: EventBus, reader) -> None:
    r = reader()
    tag = _tag()
    new_id = bus.publish("test.live", {"tag": tag, "n": 1})
    wait_until(lambda: r.ids(_mine(tag)) == [new_id], what="the live event")
    (msg,) = [m for m in r.messages if _mine(tag)(m)]
    assert msg.event == "test.live"
    assert msg.data["id"] == new_id and msg.data["type"] == "test.live"
    assert msg.data["data"] == {"tag": tag, "n": 1} and msg.data["created_at"]


def test_resume_replays_what_was_missed_then_goes_live(bus: EventBus, reader) -> None:
    tag = _tag()
    ids = [bus.publish("test.resume", {"tag": tag, "n": n}) for n in range(5)]
    r = reader(last_event_id=ids[1])
    wait_until(lambda: r.ids(_mine(tag)) == ids[2:], what="the replay")
    ids.append(bus.publish("test.resume", {"tag": tag, "n": 5}))
    wait_until(lambda: r.ids(_mine(tag)) == ids[2:], what="the live event after the replay")


def test_resume_under_concurrent_publishers_has_no_gap_and_no_duplicate(
        bus: EventBus, reader, server: Server) -> None:
    tag = _tag()
    first = bus.publish("test.race", {"tag": tag, "n": -1})
    published: list[int] = []
    lock = threading.Lock()
    go = threading.Event()

    def publisher(k: int) -> None:
        go.wait(10)
        for n in range(40):
            new_id = bus.publish("test.race", {"tag": tag, "n": k * 100 + n})
            with lock:
                published.append(new_id)

    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    go.set()
    wait_until(lambda: len(published) >= 30, what="publishing under way")
    r = reader(last_event_id=first)  # connects while events keep coming
    for t in threads:
        t.join(60)
    assert len(published) == 160
    wait_until(lambda: len(r.ids(_mine(tag))) >= 160, what="all events at the client")
    got = r.ids(_mine(tag))
    assert got == sorted(published), "gap, duplicate or disorder"
    # and a replay from the start of the race gives exactly the same list
    with server.client(Role.operator) as c:
        stored = c.get("/api/v1/events", params={"last_event_id": first, "limit": 1000}).json()
    assert [e["id"] for e in stored if e["data"].get("tag") == tag] == got


def test_event_in_callers_transaction_is_sent_only_if_it_commits(
        bus: EventBus, reader, server: Server) -> None:
    r = reader()
    tag = _tag()
    with pytest.raises(RuntimeError, match="rolled back"), server.engine.begin() as conn:
        lost = bus.publish("test.txn", {"tag": tag, "n": 0}, conn)
        raise RuntimeError("rolled back")
    with server.engine.begin() as conn:
        kept = bus.publish("test.txn", {"tag": tag, "n": 1}, conn)
    wait_until(lambda: r.ids(_mine(tag)) == [kept], what="the committed event")
    # (SQLite may reuse the rolled-back id: no client can ever have seen it)
    assert [m.data["data"]["n"] for m in r.messages if _mine(tag)(m)] == [1]
    with server.client(Role.operator) as c:
        stored = c.get("/api/v1/events", params={"last_event_id": min(lost, kept) - 1}).json()
    assert [e["data"]["n"] for e in stored if e["data"].get("tag") == tag] == [1]


def test_heartbeat_comments_keep_the_stream_alive(reader) -> None:
    r = reader()
    wait_until(lambda: r.comments.count("keepalive") >= 2, what="two heartbeats")


def test_json_mode_and_query_parameter(bus: EventBus, server: Server) -> None:
    tag = _tag()
    a = bus.publish("test.json", {"tag": tag})
    b = bus.publish("test.json", {"tag": tag})
    with server.client(Role.supervisor) as c:
        r = c.get("/api/v1/events", params={"last_event_id": a})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.json()[0]["id"] == b
        assert c.get("/api/v1/events", params={"last_event_id": a - 1, "limit": 1}).json()[0][
            "id"] == a


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5"])
def test_bad_last_event_id_is_refused_naming_the_header(server: Server, bad: str) -> None:
    with server.client(Role.operator) as c:
        r = c.get("/api/v1/events", headers={"Last-Event-ID": bad,
                                              "Accept": "text/event-stream"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "Last-Event-ID"]


def test_auditors_do_not_get_the_live_stream(server: Server) -> None:
    with server.client(Role.auditor) as c:
        assert c.get("/api/v1/events").status_code == 403


def test_publish_refuses_data_that_is_not_json(bus: EventBus) -> None:
    with pytest.raises(ValueError, match="test.bad"):
        bus.publish("test.bad", {"x": object()})


def test_an_event_published_on_one_replica_reaches_clients_of_another(
        server: Server, reader) -> None:
    """Two servers on one database: PostgreSQL LISTEN/NOTIFY; SQLite through the poll."""
    other, _ = start_server(server.settings.db_url)
    try:
        other.app.state.events.heartbeat_s = 0.2
        r = reader(url=other.url, token=_operator_token(other.url))
        alert = {"type": "test-replica", "priority": 2, "title": _tag()}
        with server.client(Role.supervisor) as c:  # published on the first replica
            created = c.post("/api/v1/alerts", json=alert)
        assert created.status_code == 201, created.text
        wait_until(lambda: any(m.event == "alert.created"
                               and m.data["data"]["title"] == alert["title"]
                               for m in list(r.messages)), what="the event on the other replica")
        r.stop()
    finally:
        other.stop()


def test_stopping_the_server_ends_open_streams(server: Server) -> None:
    other, _ = start_server(server.settings.db_url)
    try:
        r = SseReader(other.url, _operator_token(other.url)).start()
        other.stop()
        wait_until(lambda: r.ended, what="the stream to end with the server")
        r.stop()
    finally:
        other.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{other.url}/api/v1/auth/me", timeout=2)
