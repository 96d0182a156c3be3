"""The console's consumer of the server's live event stream (``GET /api/v1/events``, SSE).

``EventStream`` runs one background thread (requests, streaming): it connects, parses
Server-Sent Events (multi-line ``data``, comments, ``id``, ``retry``), validates each
message as an ``Event`` and calls ``on_event`` in that thread (the GUI marshals it to
its own thread). When the connection drops (server restart, network) it reconnects with
back-off (0.5 s doubling to 8 s) and resumes with ``Last-Event-ID``: the server replays
what was missed, and ids at or below the last one delivered are dropped, so each event
reaches ``on_event`` exactly once and in order. ``stop()`` closes the connection and
joins the thread.
"""
from __future__ import annotations

import codecs
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Self

import requests
from pydantic import ValidationError

from console.logsafe import mask_url
from console.model import Event

log = logging.getLogger("rtcc.api.events")


@dataclass
class SseMessage:
    event: str = "message"
    data: str = ""
    id: str | None = None  # the last event id in effect when this message was dispatched


@dataclass
class SseParser:
    """Incremental parser of the text/event-stream format (WHATWG HTML, "server-sent
    events"): feed decoded text in any chunking, get complete messages out."""

    last_id: str | None = None
    retry_ms: int | None = None
    _buf: str = ""
    _data: list[str] = field(default_factory=list)
    _event: str = ""
    _pending_cr: bool = False

    def feed(self, text: str) -> Iterator[SseMessage]:
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across chunks
        self._pending_cr = False
        self._buf += text
        while True:
            cut = min((i for i in (self._buf.find("\r"), self._buf.find("\n")) if i >= 0),
                      default=-1)
            if cut < 0:
                return
            line = self._buf[:cut]
            if self._buf[cut] == "\r":
                if cut + 1 < len(self._buf):
                    cut += 1 if self._buf[cut + 1] == "\n" else 0
                else:
                    self._pending_cr = True
            self._buf = self._buf[cut + 1:]
            msg = self._line(line)
            if msg is not None:
                yield msg

    def _line(self, line: str) -> SseMessage | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment (heartbeat)
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        # unknown fields are ignored
        return None

    def _dispatch(self) -> SseMessage | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return SseMessage(event=event or "message", data="\n".join(data), id=self.last_id)


def _abort(resp: requests.Response) -> None:
    """Wake a thread blocked reading ``resp``: closing the response alone does not
    interrupt a blocked recv(); shutting the socket down does."""
    conn = getattr(resp.raw, "connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    resp.close()


class EventStream:
    def __init__(self, base_url: str, token_provider: Callable[[], str | None], *,
                 on_event: Callable[[Event], None], last_event_id: int | None = None,
                 on_state: Callable[[str], None] | None = None, verify: bool | str = True,
                 backoff_initial: float = 0.5, backoff_max: float = 8.0,
                 connect_timeout: float = 5.0, read_timeout: float = 35.0) -> None:
        """``token_provider`` is asked for the bearer token before every connection (it
        may log in again after a 401). ``read_timeout`` > the server's 10 s heartbeat."""
        self.base_url = base_url.rstrip("/")
        self._token_provider = token_provider
        self._on_event = on_event
        self._on_state = on_state or (lambda _s: None)
        self.last_event_id = last_event_id
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._timeouts = (connect_timeout, read_timeout)
        self._session = requests.Session()
        self._session.verify = verify
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._response: requests.Response | None = None
        self._thread: threading.Thread | None = None
        self.connected = False
        self.connections = 0  # successful connections so far (1 + reconnects)
        self._server_retry_s: float | None = None  # the server's ``retry:`` advice

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/v1/events"

    def start(self) -> EventStream:
        if self._thread is not None:
            raise RuntimeError("EventStream.start() called twice")
        self._thread = threading.Thread(target=self._run, name="event-stream", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._lock:
            resp = self._response
        if resp is not None:
            _abort(resp)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("event stream thread did not stop within %.0f s", timeout)
        self._session.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the thread ---------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.connected = state == "connected"
        try:
            self._on_state(state)
        except Exception:
            log.exception("event stream: on_state callback failed")

    def _run(self) -> None:
        delay = self.backoff_initial
        while not self._stop.is_set():
            self._set_state("connecting")
            got_any = False
            try:
                got_any = self._connect_and_read()
                reason = "stream ended"
            except requests.HTTPError as exc:
                reason = str(exc)
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect (or stop)
                # (stop() closing the response under the reader raises odd things, e.g.
                # AttributeError from http.client: not an error then)
                reason = f"{type(exc).__name__}: {exc}"
            if self._stop.is_set():
                break
            self._set_state("disconnected")
            if got_any:  # the link worked: start over from the server's advice
                delay = min(self._server_retry_s or self.backoff_initial, self.backoff_max)
            log.warning("event stream %s: %s; reconnecting in %.1f s (resume after %s)",
                        mask_url(self.url), reason, delay, self.last_event_id)
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, self.backoff_max)
        self._set_state("stopped")

    def _connect_and_read(self) -> bool:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        token = self._token_provider()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        resp = self._session.get(self.url, headers=headers, stream=True,
                                 timeout=self._timeouts)
        with self._lock:
            self._response = resp
        try:
            if self._stop.is_set():
                return False
            if resp.status_code != 200:
                raise requests.HTTPError(f"HTTP {resp.status_code}: {resp.text[:200]}",
                                         response=resp)
            self.connections += 1
            self._set_state("connected")
            return self._read(resp)
        finally:
            with self._lock:
                self._response = None
            resp.close()

    def _read(self, resp: requests.Response) -> bool:
        parser = SseParser()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        got_any = False
        for chunk in resp.iter_content(chunk_size=None):
            if self._stop.is_set():
                break
            got_any = True
            for msg in parser.feed(decoder.decode(chunk)):
                self._deliver(msg)
            if parser.retry_ms is not None:
                self._server_retry_s = parser.retry_ms / 1000
        return got_any

    def _deliver(self, msg: SseMessage) -> None:
        try:
            ev = Event.model_validate_json(msg.data)
        except ValidationError as exc:
            log.error("event stream: bad event (id %s, type %r) skipped: %s",
                      msg.id, msg.event, str(exc).splitlines()[0])
            if msg.id is not None and msg.id.isdigit():
                self.last_event_id = max(self.last_event_id or 0, int(msg.id))
            return
        if self.last_event_id is not None and ev.id <= self.last_event_id:
            return  # already delivered (defensive: the server does not repeat)
        self.last_event_id = ev.id
        try:
            self._on_event(ev)
        except Exception:
            log.exception("event stream: on_event failed for event %d (%s)", ev.id, ev.type)
