"""Typed HTTP client of the RTCC backend (``/api/v1``).

Blocking (requests); the GUI calls it through ui/tasks, never on the GUI thread.
Idempotent reads are retried on connection errors; writes are not (the outbox
owns retrying writes with idempotency keys). Replies are validated with the
shared pydantic models; a bad row in a list is skipped with an error naming it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, TypeAdapter, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from console.logsafe import mask_url
from console.model import (
    Camera,
    Layout,
    LayoutIn,
    LoginResponse,
    Station,
    StreamProfileName,
    StreamUrl,
    User,
)

log = logging.getLogger("rtcc.api")
M = TypeVar("M", bound=BaseModel)


class BackendError(Exception):
    """The server answered with an error status."""

    def __init__(self, status: int, detail: str, where: str):
        super().__init__(f"{where}: HTTP {status}: {detail}")
        self.status, self.detail, self.where = status, detail, where


class BackendUnavailable(BackendError):
    """No answer: connection refused, timeout, DNS, TLS."""

    def __init__(self, where: str, reason: str):
        Exception.__init__(self, f"{where}: backend unreachable: {reason}")
        self.status, self.detail, self.where = 0, reason, where


class BadReply(BackendError):
    """The server answered 2xx with something that is not what the API promises."""

    def __init__(self, where: str, reason: str):
        Exception.__init__(self, f"{where}: unexpected reply: {reason}")
        self.status, self.detail, self.where = 0, reason, where


class BackendClient:
    def __init__(self, base_url: str, *, verify: bool | str = True, timeout: float = 10.0,
                 retries: int = 2, on_bad_row: Callable[[str], None] | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token: str | None = None
        self.user: User | None = None
        self._on_bad_row = on_bad_row or (lambda msg: log.error("%s", msg))
        self.session = requests.Session()
        self.session.verify = verify
        retry = Retry(total=retries, connect=retries, read=0, status=0, backoff_factor=0.2,
                      allowed_methods=frozenset({"GET", "HEAD"}))
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # -- plumbing -----------------------------------------------------------------
    def _request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                 headers: dict | None = None, auth: bool = True) -> Any:
        url = f"{self.base_url}/api/v1{path}"
        where = f"{method} {mask_url(url)}"
        hdrs = dict(headers or {})
        if auth and self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        try:
            resp = self.session.request(method, url, json=json, params=params, headers=hdrs,
                                        timeout=self.timeout)
        except requests.RequestException as exc:
            raise BackendUnavailable(where, type(exc).__name__) from None
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except ValueError:
                detail = resp.text[:200]
            raise BackendError(resp.status_code, str(detail), where)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise BadReply(where, "body is not JSON") from None

    def _one(self, model: type[M], data: Any, where: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise BadReply(where, f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from None

    def _many(self, model: type[M], data: Any, where: str) -> list[M]:
        if not isinstance(data, list):
            raise BadReply(where, "expected a JSON list")
        out: list[M] = []
        for i, row in enumerate(data):
            try:
                out.append(model.model_validate(row))
            except ValidationError as exc:
                err = exc.errors()[0]
                rid = row.get("id") if isinstance(row, dict) else None
                self._on_bad_row(f"{where}: row {i} (id={rid!r}) skipped: "
                                 f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
        return out

    # -- auth ----------------------------------------------------------------------
    def login(self, username: str, password: str) -> LoginResponse:
        data = self._request("POST", "/auth/login", json={"username": username, "password": password},
                             auth=False)
        reply = self._one(LoginResponse, data, "login")
        self.token, self.user = reply.access_token, reply.user
        return reply

    def logout(self) -> None:
        if self.token:
            try:
                self._request("POST", "/auth/logout")
            finally:
                self.token = None

    # -- catalog and video ---------------------------------------------------------
    def cameras(self) -> list[Camera]:
        return self._many(Camera, self._request("GET", "/cameras"), "GET /cameras")

    def stream_url(self, camera_id: str, profile: StreamProfileName) -> str:
        data = self._request("GET", f"/cameras/{camera_id}/streams/{profile}")
        return self._one(StreamUrl, data, f"stream {camera_id}/{profile}").url

    # -- stations and layouts ------------------------------------------------------
    def station(self, station_id: str) -> Station:
        return self._one(Station, self._request("GET", f"/stations/{station_id}"), "station")

    def layouts(self, station_id: str, screen: int | None = None) -> list[Layout]:
        params = {"screen": screen} if screen is not None else None
        data = self._request("GET", f"/stations/{station_id}/layouts", params=params)
        return self._many(Layout, data, f"GET /stations/{station_id}/layouts")

    def create_layout(self, layout: LayoutIn) -> Layout:
        data = self._request("POST", "/layouts", json=layout.model_dump(mode="json"))
        return self._one(Layout, data, "POST /layouts")

    def update_layout(self, layout_id: int, layout: LayoutIn, *, if_version: int | None = None) -> Layout:
        headers = {"If-Match": str(if_version)} if if_version is not None else None
        data = self._request("PUT", f"/layouts/{layout_id}", json=layout.model_dump(mode="json"),
                             headers=headers)
        return self._one(Layout, data, f"PUT /layouts/{layout_id}")

    def close(self) -> None:
        self.session.close()
