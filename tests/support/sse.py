"""A deliberately plain SSE reader for server tests (independent of console.api.events,
so a bug in the console's parser cannot hide a server bug)."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Message:
    id: int | None
    event: str
    data: dict[str, Any]


@dataclass
class SseReader:
    """Reads ``GET /api/v1/events`` in a thread; the server should send heartbeats often
    (set ``app.state.events.heartbeat_s`` low) so ``stop()`` is noticed quickly."""

    base_url: str
    token: str
    last_event_id: int | None = None
    messages: list[Message] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    error: BaseException | None = None
    ended: bool = False

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="sse-reader", daemon=True)

    def start(self) -> SseReader:
        self._thread.start()
        wait_until(lambda: any(c.startswith("connected") for c in self.comments)
                   or self.error is not None, what="SSE stream connected")
        if self.error is not None:
            raise self.error
        return self

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        try:
            with httpx.stream("GET", f"{self.base_url}/api/v1/events", headers=headers,
                              timeout=httpx.Timeout(10, read=30)) as r:
                r.raise_for_status()
                fields: dict[str, str] = {}
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if "data" in fields:
                            msg = Message(int(fields["id"]) if "id" in fields else None,
                                          fields.get("event", "message"),
                                          json.loads(fields["data"]))
                            with self._lock:
                                self.messages.append(msg)
                        fields = {}
                    elif line.startswith(":"):
                        with self._lock:
                            self.comments.append(line[1:].strip())
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            if not self._stop.is_set():
                self.error = exc
        finally:
            self.ended = True

    def ids(self, pred: Callable[[Message], bool] = lambda m: True) -> list[int]:
        with self._lock:
            return [m.id for m in self.messages if pred(m) and m.id is not None]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        assert not self._thread.is_alive(), "SSE reader thread did not stop"


def wait_until(cond: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)  # poll-until-condition
