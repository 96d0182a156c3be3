"""PTZ wire models: positions, continuous moves, presets and the control lock.

Positions are normalised like ONVIF: pan and tilt in [-1, 1] (0 = centre), zoom in [0, 1]
(0 = widest). Move velocities are in [-1, 1] for every axis.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import Field

from console.model.core import Role, Wire

__all__ = [
    "PtzLock",
    "PtzMove",
    "PtzPosition",
    "PtzPreset",
]


class PtzPosition(Wire):
    pan: float = Field(default=0.0, ge=-1, le=1)
    tilt: float = Field(default=0.0, ge=-1, le=1)
    zoom: float = Field(default=0.0, ge=0, le=1)


class PtzMove(Wire):
    """A continuous move. It stops by itself unless repeated within the dead-man period (1 s)."""

    pan: float = Field(default=0.0, ge=-1, le=1)
    tilt: float = Field(default=0.0, ge=-1, le=1)
    zoom: float = Field(default=0.0, ge=-1, le=1)


class PtzLock(Wire):
    """Who controls a camera's PTZ. ``holder`` is None when nobody does."""

    camera_id: str
    holder: str | None = None
    role: Role | None = None
    acquired_at: datetime | None = None
    expires_at: datetime | None = None  # pushed back by every command; idle locks expire


class PtzPreset(Wire):
    id: int
    camera_id: str
    name: str
    position: PtzPosition
