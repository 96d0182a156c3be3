"""Pydantic models shared by the console and the reference server.

These are the wire shapes of the REST API (``/api/v1``). The server keeps extra,
secret fields (camera source URLs with credentials) in its own tables and never
puts them in these models.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StreamProfileName = Literal["main", "sub"]

__all__ = [
    "ApiError",
    "Camera",
    "Cell",
    "Division",
    "Layout",
    "LayoutIn",
    "LoginRequest",
    "LoginResponse",
    "PtzCapability",
    "Role",
    "Station",
    "StreamInfo",
    "StreamProfileName",
    "StreamUrl",
    "User",
    "Wire",
]


class Wire(BaseModel):
    """Base for wire models: unknown fields from a newer server are ignored."""

    model_config = ConfigDict(extra="ignore")


class Role(StrEnum):
    operator = "operator"
    supervisor = "supervisor"
    trainer = "trainer"
    auditor = "auditor"
    admin = "admin"


class User(Wire):
    username: str
    role: Role
    display_name: str = ""


class LoginRequest(Wire):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(Wire):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: User


class Division(Wire):
    """An LAPD geographic Area (1-21); ``area`` is the join key (PREC / AREA)."""

    area: int = Field(ge=1, le=21)
    name: str


class StreamInfo(Wire):
    """One encoding of a camera. ``url`` is what the console plays: a gateway URL
    carrying a short-lived token, never the camera's own address."""

    profile: StreamProfileName
    url: str = ""
    codec: str = "H.264"
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fps: float = Field(gt=0)


class PtzCapability(Wire):
    pan_tilt: bool = False
    zoom: bool = False
    presets: bool = False
    home: bool = False

    @property
    def any(self) -> bool:
        return self.pan_tilt or self.zoom or self.presets or self.home


class Camera(Wire):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    owner_agency: str = Field(min_length=1, max_length=200)
    division: int | None = Field(default=None, ge=1, le=21)
    division_name: str | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    heading_deg: float | None = Field(default=None, ge=0, lt=360)
    fov_deg: float | None = Field(default=None, gt=0, le=360)
    range_m: float | None = Field(default=None, gt=0)
    streams: list[StreamInfo] = Field(default_factory=list)
    ptz: PtzCapability = Field(default_factory=PtzCapability)
    private: bool = False
    legal_basis: str | None = None
    source: str = ""

    def stream(self, profile: StreamProfileName) -> StreamInfo | None:
        for s in self.streams:
            if s.profile == profile:
                return s
        return None


class StreamUrl(Wire):
    camera_id: str
    profile: StreamProfileName
    url: str
    expires_at: datetime


class Station(Wire):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    screens: int = Field(default=1, ge=1, le=16)


class Cell(Wire):
    """One tile of a layout, on the layout's grid (row/col from 0)."""

    row: int = Field(ge=0)
    col: int = Field(ge=0)
    row_span: int = Field(default=1, ge=1)
    col_span: int = Field(default=1, ge=1)
    camera_id: str | None = None


class LayoutIn(Wire):
    """What a client sends to create or replace a layout."""

    station_id: str = Field(min_length=1, max_length=64)
    screen: int = Field(default=0, ge=0, le=15)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=32)  # "4x4", "1+5", ... see console.wall
    rows: int = Field(ge=1, le=8)
    cols: int = Field(ge=1, le=8)
    cells: list[Cell] = Field(default_factory=list)
    active: bool = True


class Layout(LayoutIn):
    id: int
    version: int = 1
    updated_at: datetime | None = None
    updated_by: str | None = None


class ApiError(Wire):
    detail: str
