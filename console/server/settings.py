"""Typed settings of the reference server.

``ServerSettings.from_env()`` reads ``RTCC_SERVER_*`` variables on top of the defaults;
the CLI passes explicit values. The media secret signs stream tokens: random per process
unless given, so tokens die with the process (consoles ask for a fresh URL on reconnect).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from console.config import data_dir



def default_db_url() -> str:
    """SQLite file in the data dir (platformdirs "rtcc-console", or $RTCC_DATA_DIR)."""
    return f"sqlite:///{Path(data_dir()) / 'server.db'}"


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    db_url: str = Field(default_factory=default_db_url)
    # repr=False: the secret must never reach a log line through repr(settings).
    media_secret: bytes = Field(default_factory=lambda: secrets.token_bytes(32), repr=False,
                                min_length=16)
    token_ttl_s: float = Field(default=12 * 3600.0, gt=0)
    stream_token_ttl_s: float = Field(default=300.0, gt=0)
    demo: bool = False
    # Stream profiles the gateway keeps pulling with no viewer (instant tiles); others
    # start on demand and linger briefly after the last viewer leaves.
    always_on_profiles: frozenset[str] = frozenset()
    # Recording (console.server.media.recorder): the stream profiles recorded for every
    # camera (empty = off), where, and retention. recordings_dir None = <data dir>/recordings.
    record_profiles: frozenset[str] = frozenset()
    recordings_dir: Path | None = None
    record_segment_s: float = Field(default=10.0, gt=0)
    record_max_age_s: float = Field(default=7 * 24 * 3600.0, gt=0)
    record_max_bytes: int | None = Field(default=None, gt=0)

    @classmethod
    def from_env(cls, **overrides: object) -> ServerSettings:
        """Defaults < ``RTCC_SERVER_{HOST,PORT,DB_URL,MEDIA_SECRET,TOKEN_TTL_S,...}`` < overrides."""
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = os.environ.get(f"RTCC_SERVER_{name.upper()}")
            if raw is not None:
                values[name] = _parse_env(name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse_env(name: str, raw: str) -> object:
    if name == "media_secret":
        return raw.encode()
    if name in ("always_on_profiles", "record_profiles"):
        return frozenset(p.strip() for p in raw.split(",") if p.strip())
    return raw
