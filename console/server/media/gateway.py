"""MediaGateway: camera streams in (one upstream each), viewers out; runs in the server's loop.

On-demand sources start their upstream with the first viewer and stop it linger_s after the
last one leaves; always_on sources keep theirs running so the first viewer starts at once.
All methods must be called from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from console.logsafe import mask_url
from console.server.media.upstream import Subscriber, Upstream, UpstreamCounters

log = logging.getLogger("rtcc.media")

StreamKey = tuple[str, str]  # (camera_id, profile)


class UnknownStream(KeyError):
    pass


class StreamUnavailable(RuntimeError):
    pass


@dataclass
class _Source:
    url: str
    always_on: bool
    counters: UpstreamCounters = field(default_factory=UpstreamCounters)
    upstream: Upstream | None = None
    linger: asyncio.TimerHandle | None = None


class Subscription:
    """Async iterator of MPEG-TS bytes for one viewer: PAT, PMT, keyframe first, then live.

    Ends when the upstream is lost or the viewer is dropped; close() is idempotent."""

    def __init__(
        self, gateway: MediaGateway, key: StreamKey, upstream: Upstream, sub: Subscriber
    ) -> None:
        self._gateway = gateway
        self._key = key
        self._upstream = upstream
        self._sub = sub
        self._closed = False

    @property
    def end_reason(self) -> str | None:
        return self._sub.end_reason

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._sub.next()
        except StopAsyncIteration:
            self.close()
            raise

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._upstream.unsubscribe(self._sub)

    async def aclose(self) -> None:
        self.close()


class MediaGateway:
    def __init__(
        self,
        *,
        linger_s: float = 10.0,
        ffmpeg: str = "ffmpeg",
        viewer_queue_bytes: int = 4 * 1024 * 1024,
        **upstream_options: Any,
    ) -> None:
        """upstream_options go to Upstream (stall_timeout, open_timeout, backoff_initial, ...)."""
        self.linger_s = linger_s
        self.ffmpeg = ffmpeg
        self.viewer_queue_bytes = viewer_queue_bytes
        self.upstream_options = upstream_options
        self._sources: dict[StreamKey, _Source] = {}
        self._started = False
        self._stopping: set[asyncio.Task[None]] = set()

    # -- configuration -----------------------------------------------------------------------
    def set_source(
        self, camera_id: str, profile: str, url: str, always_on: bool = False
    ) -> None:
        key = (camera_id, profile)
        old = self._sources.get(key)
        if old is not None and old.url == url:
            old.always_on = always_on
        else:
            if old is not None:
                self._retire(old)
            self._sources[key] = _Source(url=url, always_on=always_on)
            log.info(
                "source %s/%s = %s%s",
                camera_id,
                profile,
                mask_url(url),
                " (always on)" if always_on else "",
            )
        src = self._sources[key]
        if self._started and always_on:
            self._ensure_upstream(key, src)

    def remove_source(self, camera_id: str, profile: str) -> None:
        src = self._sources.pop((camera_id, profile), None)
        if src is not None:
            self._retire(src)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._started = True
        for key, src in self._sources.items():
            if src.always_on:
                self._ensure_upstream(key, src)

    async def stop(self) -> None:
        """Kill every ffmpeg and end every viewer; idempotent."""
        self._started = False
        for src in self._sources.values():
            self._retire(src)
        if self._stopping:
            await asyncio.gather(*list(self._stopping), return_exceptions=True)

    # -- viewers -----------------------------------------------------------------------------
    async def subscribe(
        self, camera_id: str, profile: str, first_data_timeout: float = 5.0
    ) -> Subscription:
        key = (camera_id, profile)
        src = self._sources.get(key)
        if src is None:
            raise UnknownStream(f"{camera_id}/{profile}")
        if not self._started:
            raise StreamUnavailable(f"{camera_id}/{profile}: media gateway not started")
        upstream = self._ensure_upstream(key, src)
        sub = upstream.subscribe()
        subscription = Subscription(self, key, upstream, sub)
        try:
            await asyncio.wait_for(sub.wait_ready(), first_data_timeout)
        except TimeoutError:
            subscription.close()
            raise StreamUnavailable(
                f"{camera_id}/{profile}: no video within {first_data_timeout} s"
            ) from None
        except BaseException:
            subscription.close()
            raise
        if not sub.has_data:
            subscription.close()
            raise StreamUnavailable(
                f"{camera_id}/{profile}: upstream ended ({sub.end_reason})"
            )
        return subscription

    def stats(self) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        out: dict[str, dict[str, Any]] = {}
        for (camera_id, profile), src in self._sources.items():
            up, c = src.upstream, src.counters
            out[f"{camera_id}/{profile}"] = {
                "running": bool(up and up.running),
                "pid": up.pid if up else None,
                "viewers": up.viewers if up else 0,
                "upstream_starts": c.starts,
                "bytes_in": c.bytes_in,
                "last_keyframe_age": None
                if c.last_keyframe_at is None
                else now - c.last_keyframe_at,
                "always_on": src.always_on,
            }
        return out

    # -- internals ---------------------------------------------------------------------------
    def _ensure_upstream(self, key: StreamKey, src: _Source) -> Upstream:
        if src.linger is not None:
            src.linger.cancel()
            src.linger = None
        if src.upstream is None:
            src.upstream = Upstream(
                src.url,
                f"{key[0]}/{key[1]}",
                ffmpeg=self.ffmpeg,
                counters=src.counters,
                on_idle=lambda: self._on_idle(key),
                viewer_queue_bytes=self.viewer_queue_bytes,
                **self.upstream_options,
            )
            src.upstream.start()
        return src.upstream

    def _on_idle(self, key: StreamKey) -> None:
        src = self._sources.get(key)
        if (
            src is None
            or src.always_on
            or src.upstream is None
            or src.linger is not None
        ):
            return
        loop = asyncio.get_running_loop()
        src.linger = loop.call_later(
            self.linger_s, self._linger_expired, key, src.upstream
        )

    def _linger_expired(self, key: StreamKey, upstream: Upstream) -> None:
        src = self._sources.get(key)
        if src is None or src.upstream is not upstream:
            return
        src.linger = None
        if upstream.viewers == 0 and not src.always_on:
            log.info(
                "upstream %s/%s: no viewers for %.1f s; stopping", *key, self.linger_s
            )
            self._retire(src)

    def _retire(self, src: _Source) -> None:
        """Detach src's upstream and stop it in the background (tracked so stop() can await it)."""
        if src.linger is not None:
            src.linger.cancel()
            src.linger = None
        upstream, src.upstream = src.upstream, None
        if upstream is not None:
            task = asyncio.get_running_loop().create_task(upstream.stop())
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)
