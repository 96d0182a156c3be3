"""Wire model of the server's live event stream (``GET /api/v1/events``, SSE).

Every event has an increasing ``id`` (the SSE ``id:`` line, used for ``Last-Event-ID``
resume), a ``type`` (the SSE ``event:`` line) and a JSON ``data`` payload whose shape
depends on the type (an ``Alert`` for ``alert.*``; see the publishing router).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from console.model.core import Wire

__all__ = ["Event", "EventType"]


class EventType(StrEnum):
    alert_created = "alert.created"
    alert_updated = "alert.updated"
    alpr_hit = "alpr.hit"
    alpr_hit_updated = "alpr.hit.updated"
    ptz_lock = "ptz.lock"
    layout_pushed = "layout.pushed"
    bookmark_created = "bookmark.created"
    bookmark_updated = "bookmark.updated"
    bookmark_deleted = "bookmark.deleted"


class Event(Wire):
    """One stored event. ``type`` stays a plain string so a console keeps working when a
    newer server adds types; compare it with ``EventType`` members."""

    id: int = Field(ge=1)
    type: str = Field(min_length=1, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
