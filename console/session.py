"""A console's session with its backend: sign in, fetch the catalog and this station's
layouts, fall back to the local cache when the backend is away, resolve fresh stream
URLs, save layouts. Blocking calls: the GUI runs them through ui/tasks."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from console.api.client import BackendClient, BackendError, BackendUnavailable
from console.model import Camera, Layout, LayoutIn, StreamProfileName, User
from console.store import LocalStore

log = logging.getLogger("rtcc.session")


@dataclass(frozen=True)
class Snapshot:
    """What the console starts from. ``online`` False means it came from the local cache."""

    cameras: list[Camera]
    layouts: list[Layout]
    online: bool
    user: User | None = None
    cached_at: datetime | None = None
    error: str = ""
    skipped: list[str] = field(default_factory=list)


class AuthFailed(Exception):
    pass


class ConsoleSession:
    def __init__(self, client: BackendClient, store: LocalStore, *, station_id: str,
                 username: str, password: str):
        self.client, self.store, self.station_id = client, store, station_id
        self._username, self._password = username, password
        self._lock = threading.Lock()  # one (re)login at a time
        self._skipped: list[str] = []
        client._on_bad_row = self._note_bad_row

    @property
    def server(self) -> str:
        return self.client.base_url

    def _note_bad_row(self, message: str) -> None:
        log.error("%s", message)
        self._skipped.append(message)

    def _login(self) -> None:
        with self._lock:
            try:
                self.client.login(self._username, self._password)
            except BackendUnavailable:
                raise
            except BackendError as exc:
                if exc.status in (400, 401, 403, 422):
                    raise AuthFailed(f"sign-in refused for {self._username!r}: {exc.detail}") from None
                raise

    def connect(self) -> Snapshot:
        """Sign in and fetch; on an unreachable backend return the cached snapshot."""
        self._skipped = []
        try:
            self._login()
            cameras = self.client.cameras()
            layouts = self.client.layouts(self.station_id)
        except BackendUnavailable as exc:
            log.warning("backend unreachable, using the local cache: %s", exc)
            return Snapshot(cameras=self.store.load_catalog(self.server),
                            layouts=self.store.load_layouts(self.server, self.station_id),
                            online=False, cached_at=self.store.saved_at(self.server, "catalog"),
                            error=str(exc))
        self.store.save_catalog(self.server, cameras)
        self.store.save_layouts(self.server, self.station_id, layouts)
        return Snapshot(cameras=cameras, layouts=layouts, online=True, user=self.client.user,
                        skipped=list(self._skipped))

    def _authed(self, call):
        try:
            return call()
        except BackendError as exc:
            if exc.status != 401:
                raise
            self._login()  # token expired or server restarted with fresh sessions
            return call()

    def resolve(self, camera_id: str, profile: StreamProfileName) -> str:
        """A fresh, tokenized stream URL; called by tiles on every (re)connect."""
        return self._authed(lambda: self.client.stream_url(camera_id, profile))

    def save_layout(self, layout: LayoutIn, layout_id: int | None) -> Layout:
        """Create or replace on the server and keep the result in the local cache."""
        if layout_id is None:
            saved = self._authed(lambda: self.client.create_layout(layout))
        else:
            saved = self._authed(lambda: self.client.update_layout(layout_id, layout))
        self.store.save_layout(self.server, saved)
        return saved

    def close(self) -> None:
        try:
            self.client.logout()
        except BackendError:
            pass
        self.client.close()
