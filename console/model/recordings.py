"""Recording wire models: what time ranges of a camera are recorded, and playback URLs."""
from __future__ import annotations

from datetime import datetime

from console.model.core import StreamProfileName, Wire

__all__ = [
    "RecordedRange",
    "RecordingUrl",
    "Recordings",
]


class RecordedRange(Wire):
    start: datetime
    end: datetime


class Recordings(Wire):
    """Merged, ordered, non-overlapping ranges (segments closer than a second are joined)."""

    camera_id: str
    profile: StreamProfileName
    ranges: list[RecordedRange]


class RecordingUrl(Wire):
    """A tokenized MPEG-TS URL serving the recording of [start, end] (cut at keyframes, so
    it may begin up to one keyframe interval earlier)."""

    camera_id: str
    profile: StreamProfileName
    start: datetime
    end: datetime
    url: str
    expires_at: datetime
