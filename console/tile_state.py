"""A video tile's health as a pure state machine (Nx-style: no Qt, no clocks of its own).

The driver (ui/wall/tile.py) feeds events with the current time from an injected clock and
carries out the returned actions: START (resolve a fresh URL and play), STOP (stop the player),
SNAPSHOT (keep the last picture for display while the stream is away).

    idle --open--> connecting --first_frame/progress--> playing
    playing --no progress for stall_after--> stalled (STALE; last picture kept)
    stalled --progress--> playing          (the source came back on the same connection)
    stalled --stalled for reconnect_after--> reconnecting (backoff) --due--> connecting
    connecting --no picture within connect_timeout--> reconnecting
    any live state --eos / vlc_error--> reconnecting (vlc_error shows as error + reason)
    url_error(reason, retry=False) --> error (stays until the next open)
    any --close--> stopped
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class TileState(StrEnum):
    idle = "idle"
    connecting = "connecting"
    playing = "playing"
    stalled = "stalled"
    reconnecting = "reconnecting"
    error = "error"
    stopped = "stopped"


class Action(StrEnum):
    START = "start"
    STOP = "stop"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class Backoff:
    """0.5 s doubling to an 8 s cap; reset after sustained playback."""

    attempt: int = 0
    base: float = 0.5
    cap: float = 8.0

    @property
    def delay(self) -> float:
        return min(self.cap, self.base * (2 ** self.attempt))

    def next(self) -> Backoff:
        return replace(self, attempt=self.attempt + 1) if self.delay < self.cap else self

    def reset(self) -> Backoff:
        return replace(self, attempt=0)


@dataclass(frozen=True)
class Timing:
    stall_after: float = 2.0  # no progress this long while playing -> stalled (< 3 s)
    reconnect_after: float = 2.0  # stalled this long -> reconnect
    connect_timeout: float = 8.0  # no first picture this long -> reconnect
    healthy_after: float = 10.0  # playing this long -> backoff reset


DEFAULT_TIMING = Timing()


@dataclass(frozen=True)
class TileStatus:
    state: TileState = TileState.idle
    since: float = 0.0  # when the state was entered
    last_progress: float | None = None
    reason: str = ""
    backoff: Backoff = Backoff()
    retry_at: float | None = None  # reconnecting/error: when to START again
    timing: Timing = DEFAULT_TIMING

    @property
    def live(self) -> bool:
        """The player should be running (or about to)."""
        return self.state in (TileState.connecting, TileState.playing, TileState.stalled)


Result = tuple[TileStatus, tuple[Action, ...]]
_NOTHING: tuple[Action, ...] = ()


def _enter(s: TileStatus, state: TileState, now: float, **kw: object) -> TileStatus:
    return replace(s, state=state, since=now, **kw)  # type: ignore[arg-type]


def _retry_later(s: TileStatus, now: float, state: TileState, reason: str) -> Result:
    nxt = _enter(s, state, now, reason=reason, retry_at=now + s.backoff.delay,
                 backoff=s.backoff.next(), last_progress=None)
    return nxt, (Action.STOP,)


def open_(s: TileStatus, now: float) -> Result:
    """Start (or restart) playing; a fresh open forgets earlier failures."""
    nxt = _enter(s, TileState.connecting, now, reason="", retry_at=None, last_progress=None,
                 backoff=s.backoff.reset())
    return nxt, (Action.START,)


def progress(s: TileStatus, now: float) -> Result:
    """A new picture was decoded (the first one counts as first_frame)."""
    if s.state in (TileState.connecting, TileState.stalled):
        return _enter(s, TileState.playing, now, last_progress=now, reason=""), _NOTHING
    if s.state == TileState.playing:
        return replace(s, last_progress=now), _NOTHING
    return s, _NOTHING


first_frame = progress


def tick(s: TileStatus, now: float) -> Result:
    """The watchdog's periodic check: time-based transitions."""
    t = s.timing
    if s.state == TileState.playing:
        last = s.last_progress if s.last_progress is not None else s.since
        if now - last >= t.stall_after:
            return _enter(s, TileState.stalled, now, reason="no new picture"), (Action.SNAPSHOT,)
        if s.backoff.attempt and now - s.since >= t.healthy_after:
            return replace(s, backoff=s.backoff.reset()), _NOTHING
    elif s.state == TileState.stalled and now - s.since >= t.reconnect_after:
        return _retry_later(s, now, TileState.reconnecting, "stream stalled")
    elif s.state == TileState.connecting and now - s.since >= t.connect_timeout:
        return _retry_later(s, now, TileState.reconnecting, "no picture from the stream")
    elif s.state in (TileState.reconnecting, TileState.error) and s.retry_at is not None \
            and now >= s.retry_at:
        return _enter(s, TileState.connecting, now, retry_at=None, last_progress=None), \
            (Action.START,)
    return s, _NOTHING


def no_progress_for(s: TileStatus, now: float) -> float:
    """Seconds without a new picture (0 when not playing)."""
    if s.state not in (TileState.playing, TileState.stalled):
        return 0.0
    last = s.last_progress if s.last_progress is not None else s.since
    return max(0.0, now - last)


def eos(s: TileStatus, now: float) -> Result:
    """The stream ended: live sources do not end, so treat it as a drop and reconnect."""
    if not s.live:
        return s, _NOTHING
    return _retry_later(s, now, TileState.reconnecting, "stream ended")


def vlc_error(s: TileStatus, now: float, reason: str = "cannot open the stream") -> Result:
    if not s.live:
        return s, _NOTHING
    return _retry_later(s, now, TileState.error, reason)


def url_error(s: TileStatus, now: float, reason: str, *, retry: bool = False) -> Result:
    """No playable URL (resolver failed, unsupported scheme...). ``retry`` for transient ones."""
    if s.state in (TileState.idle, TileState.stopped):
        return s, _NOTHING
    if retry:
        return _retry_later(s, now, TileState.error, reason)
    return _enter(s, TileState.error, now, reason=reason, retry_at=None, last_progress=None), \
        (Action.STOP,)


def close(s: TileStatus, now: float) -> Result:
    if s.state in (TileState.stopped, TileState.idle):
        return s, _NOTHING
    nxt = _enter(s, TileState.stopped, now, reason="", retry_at=None, last_progress=None)
    return nxt, (Action.STOP,)
