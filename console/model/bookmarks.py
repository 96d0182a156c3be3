"""Bookmark wire models: a marked time range of one camera (evidence, hand-over notes).

Create with ``start`` + ``end``, or ``start="now"`` with ``pre_roll_s``/``post_roll_s``
(the server resolves "now" once; a retried create with the same ``Idempotency-Key`` returns
the first result, so a delayed retry never shifts the range).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from console.model.audit import CASE_NUMBER_PATTERN
from console.model.core import Wire

__all__ = [
    "Bookmark",
    "BookmarkIn",
    "BookmarkUpdate",
]

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
MAX_ROLL_S = 3600.0


class _BookmarkFields(Wire):
    title: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=10_000)
    tags: list[Tag] = Field(default_factory=list, max_length=32)
    case_number: str | None = Field(default=None, pattern=CASE_NUMBER_PATTERN)
    protected: bool = False


class BookmarkIn(_BookmarkFields):
    camera_id: str = Field(min_length=1, max_length=64)
    start: datetime | Literal["now"]
    end: datetime | None = None
    pre_roll_s: float = Field(default=10.0, ge=0, le=MAX_ROLL_S)
    post_roll_s: float = Field(default=10.0, ge=0, le=MAX_ROLL_S)

    @model_validator(mode="after")
    def _range(self) -> BookmarkIn:
        if self.start == "now":
            if self.end is not None:
                raise ValueError("end: must be omitted when start is 'now' (use post_roll_s)")
            return self
        if self.start.tzinfo is None:
            raise ValueError("start: needs a time zone (e.g. 2025-01-01T12:00:00Z)")
        if self.end is None:
            raise ValueError("end: required unless start is 'now'")
        if self.end.tzinfo is None:
            raise ValueError("end: needs a time zone (e.g. 2025-01-01T12:00:00Z)")
        if self.end < self.start:
            raise ValueError("end: must not be before start")
        return self


class BookmarkUpdate(_BookmarkFields):
    """Replaces the editable fields; the camera is fixed, the range may be corrected."""

    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _range(self) -> BookmarkUpdate:
        for name in ("start", "end"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name}: needs a time zone (e.g. 2025-01-01T12:00:00Z)")
        if self.end < self.start:
            raise ValueError("end: must not be before start")
        return self


class Bookmark(_BookmarkFields):
    id: int
    camera_id: str
    start: datetime
    end: datetime
    created_by: str
    created_at: datetime
    updated_by: str | None = None
    updated_at: datetime | None = None
    version: int = 1
