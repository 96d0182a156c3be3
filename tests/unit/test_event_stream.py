"""The console's SSE consumer: the parser on tricky input, and ``EventStream`` against a
real server that is stopped and started again (nothing lost, nothing repeated)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from console.api.events import EventStream, SseMessage, SseParser
from console.model import Event, Role
from console.server import db
from console.server.app import create_app
from console.server.runner import ServerHandle
from console.server.tables_events import events
from tests.server.conftest import login_all, seed_users, start_server
from tests.support.sse import wait_until


def _parse(*chunks: str) -> tuple[list[SseMessage], SseParser]:
    p = SseParser()
    out = [m for c in chunks for m in p.feed(c)]
    return out, p


def test_parser_multiline_data_comments_and_ids() -> None:
    msgs, p = _parse(": hello\n", "id: 7\nevent: alert.created\ndata: {\"a\":\ndata:  1}\n\n",
                     "data: plain\n\n")
    assert [(m.event, m.data, m.id) for m in msgs] == [
        ("alert.created", '{"a":\n 1}', "7"), ("message", "plain", "7")]
    assert p.last_id == "7"


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_parser_any_line_ending_split_anywhere(eol: str) -> None:
    text = f"retry: 1500{eol}id: 3{eol}event: x{eol}data: one{eol}data{eol}{eol}"
    for cut in range(len(text) + 1):
        msgs, p = _parse(text[:cut], text[cut:])
        assert [(m.event, m.data, m.id) for m in msgs] == [("x", "one\n", "3")], cut
        assert p.retry_ms == 1500


def test_parser_ignores_empty_messages_unknown_fields_and_bad_retry() -> None:
    msgs, p = _parse("id: 4\n\n", "foo: bar\nretry: soon\ndata:x\n\n")
    assert [(m.data, m.id) for m in msgs] == [("x", "4")]
    assert p.retry_ms is None and p.last_id == "4"


def test_parser_id_with_nul_is_ignored() -> None:
    msgs, _ = _parse("id: 5\n", "id: 6\0\ndata: y\n\n")
    assert msgs[0].id == "5"


class _Collector:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.states: list[str] = []
        self.lock = threading.Lock()

    def on_event(self, ev: Event) -> None:
        with self.lock:
            self.events.append(ev)

    def ids(self, type_: str = "alert.created") -> list[int]:
        with self.lock:
            return [e.id for e in self.events if e.type == type_]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/server.db"
    seed_users(url)
    return url


@pytest.fixture
def handles() -> Iterator[list[ServerHandle]]:
    started: list[ServerHandle] = []
    yield started
    for h in started:
        h.stop()


def _post_alerts(url: str, token: str, n: int, tag: str) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=10) as c:
        for i in range(n):
            r = c.post("/api/v1/alerts", json={"type": "test", "title": f"{tag} {i}"})
            assert r.status_code == 201, r.text


def _stored_alert_events(db_url: str) -> list[int]:
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(events.c.id).where(events.c.type == "alert.created")
                                     .order_by(events.c.id)).scalars())
    finally:
        engine.dispose()


def test_resume_across_a_real_server_restart_loses_and_repeats_nothing(
        db_url: str, handles: list[ServerHandle]) -> None:
    a, _ = start_server(db_url)
    handles.append(a)
    port = a.port
    tokens = login_all(a.url)  # sessions live in the database: valid after the restart
    got = _Collector()
    stream = EventStream(a.url, lambda: tokens[Role.operator], on_event=got.on_event,
                         on_state=got.states.append, backoff_initial=0.1, backoff_max=0.5)
    with stream:
        wait_until(lambda: stream.connected, what="connected")
        _post_alerts(a.url, tokens[Role.supervisor], 3, "before")
        wait_until(lambda: len(got.ids()) == 3, what="3 live events")

        a.stop()
        wait_until(lambda: not stream.connected, what="the client notices the restart")
        # while the client is away: another server on the same database publishes
        b, _ = start_server(db_url)
        handles.append(b)
        _post_alerts(b.url, tokens[Role.supervisor], 3, "while-down")
        b.stop()
        # the server comes back on the same address and publishes at once
        a2 = ServerHandle(create_app(a.app.state.settings), port=port).start()
        handles.append(a2)
        _post_alerts(a2.url, tokens[Role.supervisor], 2, "after")

        stored = _stored_alert_events(db_url)
        assert len(stored) == 8
        wait_until(lambda: len(got.ids()) >= 8, what="all 8 events at the client")
        _post_alerts(a2.url, tokens[Role.supervisor], 1, "live-again")
        wait_until(lambda: len(got.ids()) >= 9, what="live again after the restart")
        stream.stop(timeout=2)  # well under the 10 s heartbeat: stop() must not wait for it
        assert not stream._thread.is_alive()
    assert got.ids() == _stored_alert_events(db_url), "lost, repeated or reordered"
    titles = [e.data["title"].split()[0] for e in got.events if e.type == "alert.created"]
    assert titles == ["before"] * 3 + ["while-down"] * 3 + ["after"] * 2 + ["live-again"]
    assert stream.connections >= 2 and got.states[-1] == "stopped"


def test_a_refused_token_is_retried_with_a_fresh_one(db_url: str,
                                                     handles: list[ServerHandle]) -> None:
    a, _ = start_server(db_url)
    handles.append(a)
    tokens = login_all(a.url)
    asked: list[int] = []

    def provider() -> str:
        asked.append(1)
        return "expired-token" if len(asked) < 3 else tokens[Role.operator]

    got = _Collector()
    with EventStream(a.url, provider, on_event=got.on_event, backoff_initial=0.05,
                     backoff_max=0.1) as stream:
        wait_until(lambda: stream.connected, what="connected with the fresh token")
        _post_alerts(a.url, tokens[Role.admin], 1, "x")
        wait_until(lambda: len(got.ids()) == 1, what="the event")
    assert len(asked) == 3


def test_resume_from_a_given_id_and_a_failing_callback_does_not_stop_the_stream(
        db_url: str, handles: list[ServerHandle]) -> None:
    a, _ = start_server(db_url)
    handles.append(a)
    tokens = login_all(a.url)
    _post_alerts(a.url, tokens[Role.admin], 4, "old")
    first = _stored_alert_events(db_url)
    seen: list[int] = []

    def on_event(ev: Event) -> None:
        seen.append(ev.id)
        if len(seen) == 1:
            raise RuntimeError("a buggy handler")

    with EventStream(a.url, lambda: tokens[Role.operator], on_event=on_event,
                     last_event_id=first[1]):
        wait_until(lambda: seen == first[2:], what="the replay after the given id")
