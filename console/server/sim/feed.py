"""Base of the demo feeds (alerts, ALPR reads): a daemon thread POSTing to one server endpoint.

A failed post is counted, logged with the token masked, and its data dropped: a feed is live
data, the next post goes on.
"""

from __future__ import annotations

import abc
import logging
import threading
from typing import Any, ClassVar, Self

import requests

from console.logsafe import mask_text


class PostingFeed(abc.ABC):
    """``start(server_url, token)`` runs ``_run`` on a daemon thread with an authorised session;
    ``stop()`` ends it. Subclasses set the class attributes and loop on ``self._stop.wait(...)``."""

    path: ClassVar[str]  # the endpoint, e.g. "/api/v1/alerts"
    label: ClassVar[str]  # for log lines and the thread name, e.g. "alert feed"
    logger: ClassVar[logging.Logger]

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._token = ""
        self.errors = 0
        self.last_error: str | None = None

    def start(self, server_url: str, token: str) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__}.start() called twice")
        self._stop.clear()
        self._token = token
        url = server_url.rstrip("/") + self.path
        self._thread = threading.Thread(
            target=self._serve, args=(url,), name=self.label.lower().replace(" ", "-"), daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout)
            if thread.is_alive():
                self.logger.error("%s thread did not stop within %.0f s", self.label, timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _serve(self, url: str) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {self._token}"
            self._run(session, url)

    @abc.abstractmethod
    def _run(self, session: requests.Session, url: str) -> None:
        """The feed's loop: post with self._post until self._stop is set."""

    def _post(self, session: requests.Session, url: str, body: Any, what: str) -> Any:
        """POST body as JSON; the decoded reply, or None after counting and logging a failure."""
        try:
            r = session.post(url, json=body, timeout=self.timeout_s)
            r.raise_for_status()
        except requests.RequestException as exc:
            self.errors += 1
            self.last_error = mask_text(f"{type(exc).__name__}: {exc}", self._token)
            self.logger.warning("%s: posting %s failed: %s", self.label, what, self.last_error)
            return None
        return r.json()
