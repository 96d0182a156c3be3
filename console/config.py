"""Typed, versioned settings of the console.

Settings live in a TOML file under the platform's config dir (or ``$RTCC_CONFIG``);
environment variables ``RTCC_<SECTION>__<FIELD>`` override single values (e.g.
``RTCC_SERVER__URL``). Every file carries ``schema_version``; older files are
migrated step by step on load and never wiped. Secrets never go here: passwords
live in the keyring (console.api.credentials).
"""
from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger("rtcc.config")

SCHEMA_VERSION = 2
APP_NAME = "rtcc-console"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServerSettings(Section):
    url: str = "http://127.0.0.1:8470"
    username: str = ""
    verify_tls: bool = True
    ca_bundle: str = ""  # PEM file of an internal CA; verification stays on
    timeout_s: float = Field(default=10.0, gt=0, le=120)


class StationSettings(Section):
    id: str = "demo-1"
    # Which screen shows alarm layouts (issue: alarm layouts); -1 = none.
    alarm_screen: int = Field(default=-1, ge=-1, le=15)


class WallSettings(Section):
    # Tiles smaller than this many device pixels play the sub stream (Nx RADASS-like).
    main_stream_min_pixels: int = Field(default=1280 * 720 // 2, gt=0)
    hysteresis: float = Field(default=0.2, ge=0, lt=1)
    network_caching_ms: int = Field(default=300, ge=0, le=10_000)
    stall_after_s: float = Field(default=2.0, gt=0, le=30)


class Settings(Section):
    schema_version: int = SCHEMA_VERSION
    server: ServerSettings = Field(default_factory=ServerSettings)
    station: StationSettings = Field(default_factory=StationSettings)
    wall: WallSettings = Field(default_factory=WallSettings)

    def tls_verify(self) -> bool | str:
        """What requests' ``verify`` gets: the internal CA bundle when named, else the switch."""
        return self.server.ca_bundle or self.server.verify_tls


# -- migrations: each takes the raw dict of version N and returns version N+1 ---------

def _v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    # v1 kept the backend URL flat as `server_url` and the station as `station_id`.
    raw = dict(raw)
    server = dict(raw.pop("server", {}) or {})
    if "server_url" in raw:
        server.setdefault("url", raw.pop("server_url"))
    station = dict(raw.pop("station", {}) or {})
    if "station_id" in raw:
        station.setdefault("id", raw.pop("station_id"))
    raw["server"], raw["station"] = server, station
    raw["schema_version"] = 2
    return raw


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


class SettingsError(Exception):
    """A settings file that cannot be read; the message names the file and field."""


def default_path() -> Path:
    env = os.environ.get("RTCC_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.toml"


def data_dir() -> Path:
    env = os.environ.get("RTCC_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    env = os.environ.get("RTCC_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME))


def migrate(raw: dict[str, Any], source: str = "settings") -> dict[str, Any]:
    version = raw.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        raise SettingsError(f"{source}: schema_version must be a positive integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise SettingsError(
            f"{source}: schema_version {version} is newer than this console understands "
            f"({SCHEMA_VERSION}); upgrade the console")
    while version < SCHEMA_VERSION:
        raw = MIGRATIONS[version](raw)
        log.info("%s: migrated settings from schema %d to %d", source, version, version + 1)
        version += 1
    return raw


def _apply_env(raw: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    for key, value in environ.items():
        if not key.startswith("RTCC_") or "__" not in key:
            continue
        section, _, field = key[5:].lower().partition("__")
        if section in Settings.model_fields and section != "schema_version":
            raw.setdefault(section, {})[field] = value
    return raw


def load(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings (defaults when the file is missing), migrate, apply env overrides."""
    path = path or default_path()
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
        raw = migrate(raw, str(path))
    raw = _apply_env(raw, dict(os.environ if environ is None else environ))
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"{path}: {where}: {first['msg']}") from exc


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def dumps(settings: Settings) -> str:
    data = settings.model_dump()
    lines = [f"schema_version = {data.pop('schema_version')}"]
    for section, values in data.items():
        lines.append(f"\n[{section}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in values.items())
    return "\n".join(lines) + "\n"


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically, so a crash mid-write never leaves a truncated file."""
    path = path or default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dumps(settings), encoding="utf-8")
    os.replace(tmp, path)
    return path
