"""``GET /api/v1/events``: the live event stream (Server-Sent Events).

With ``Accept: text/event-stream`` the answer is an endless SSE stream: each event as
``id:`` / ``event:`` / ``data:`` lines (``data`` is the whole ``Event`` as JSON), a
``: keepalive`` comment every ~10 s. ``Last-Event-ID`` (header, or the query parameter
``last_event_id``) first replays every stored event with a larger id. Any other
``Accept`` gets a plain JSON page of stored events after ``last_event_id`` (polling
clients, tooling).
"""
from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from console.model import Event
from console.server.db_errors import INT32_MAX
from console.server.events import EventBus
from console.server.permissions import require_dep
from console.server.routers import field_error

router = APIRouter(prefix="/api/v1", tags=["events"])

_SSE_DOC = ("SSE stream: `id: <event id>`, `event: <type>`, `data: <Event JSON>`; "
            "`: keepalive` comments; resume with the `Last-Event-ID` header")


def _header_id(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        n = int(value.strip())
    except ValueError:
        n = -1
    if not 0 <= n <= INT32_MAX:
        raise field_error(("header", "Last-Event-ID"),
                          f"expected an event id (0-{INT32_MAX}), got {value[:32]!r}")
    return n


@router.get("/events", response_model=list[Event], dependencies=[require_dep("events.read")],
            responses={200: {"content": {"text/event-stream": {"schema": {
                "type": "string", "description": _SSE_DOC}}}}})
async def events(
    request: Request,
    last_event_id: Annotated[str | None, Header(description="resume after this event id")]
    = None,
    after: Annotated[int | None, Query(alias="last_event_id", ge=0, le=INT32_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="JSON mode only")] = 100,
) -> StreamingResponse | list[Event]:
    bus: EventBus = request.app.state.events
    start = _header_id(last_event_id)
    if start is None:
        start = after
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(bus.stream(start), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})
    return await asyncio.to_thread(bus.events_after, start or 0, limit)
