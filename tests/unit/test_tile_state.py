"""console.tile_state: transitions and backoff driven by a fake clock (no widgets, no sleep)."""
from __future__ import annotations

from console import tile_state as ts
from console.tile_state import Action, Backoff, TileState, TileStatus


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def advance(self, s: float) -> float:
        self.now += s
        return self.now


def run_ticks(s: TileStatus, clock: Clock, seconds: float, step: float = 0.25) -> tuple[TileStatus, list[Action]]:
    acts: list[Action] = []
    t = 0.0
    while t < seconds:
        t += step
        s, a = ts.tick(s, clock.advance(step))
        acts += a
    return s, acts


def test_backoff_doubles_to_cap_and_resets() -> None:
    b = Backoff()
    delays = []
    for _ in range(8):
        delays.append(b.delay)
        b = b.next()
    assert delays == [0.5, 1, 2, 4, 8, 8, 8, 8]
    assert b.reset().delay == 0.5


def test_open_play_stall_reconnect_recover() -> None:
    c = Clock()
    s, a = ts.open_(TileStatus(), c.now)
    assert (s.state, a) == (TileState.connecting, (Action.START,))
    s, _ = ts.first_frame(s, c.advance(0.3))
    assert s.state == TileState.playing
    for _ in range(8):
        s, _ = ts.progress(s, c.advance(0.25))
        s, a = ts.tick(s, c.now)
        assert s.state == TileState.playing and a == ()
    # source goes silent: stalled within 3 s, SNAPSHOT requested once
    s, acts = run_ticks(s, c, 2.25)
    assert s.state == TileState.stalled and acts == [Action.SNAPSHOT]
    assert ts.no_progress_for(s, c.now) >= 2.0
    # still nothing: reconnect with the first backoff delay
    s, acts = run_ticks(s, c, 2.0)
    assert s.state == TileState.reconnecting and acts == [Action.STOP]
    assert s.retry_at == s.since + 0.5
    s, acts = run_ticks(s, c, 0.5)
    assert s.state == TileState.connecting and acts == [Action.START]
    s, _ = ts.progress(s, c.advance(0.2))
    assert s.state == TileState.playing and s.backoff.attempt == 1
    # sustained playback resets the backoff
    for _ in range(45):
        s, _ = ts.progress(s, c.advance(0.25))
        s, _ = ts.tick(s, c.now)
    assert s.backoff.attempt == 0 and s.state == TileState.playing


def test_stalled_recovers_in_place_when_pictures_return() -> None:
    c = Clock()
    s, _ = ts.open_(TileStatus(), c.now)
    s, _ = ts.progress(s, c.advance(0.1))
    s, _ = run_ticks(s, c, 2.5)
    assert s.state == TileState.stalled
    s, a = ts.progress(s, c.advance(0.1))
    assert s.state == TileState.playing and a == () and s.reason == ""


def test_connect_timeout_and_backoff_growth() -> None:
    c = Clock()
    s, _ = ts.open_(TileStatus(), c.now)
    retries = []
    for _ in range(4):
        s, acts = run_ticks(s, c, s.timing.connect_timeout)
        assert s.state == TileState.reconnecting and Action.STOP in acts
        retries.append(s.retry_at - s.since)
        s, acts = run_ticks(s, c, s.retry_at - c.now)
        assert s.state == TileState.connecting and acts == [Action.START]
    assert retries == [0.5, 1.0, 2.0, 4.0]


def test_vlc_error_shows_error_with_reason_then_retries() -> None:
    c = Clock()
    s, _ = ts.open_(TileStatus(), c.now)
    s, a = ts.vlc_error(s, c.advance(0.1), "connection refused")
    assert (s.state, s.reason, a) == (TileState.error, "connection refused", (Action.STOP,))
    s, acts = run_ticks(s, c, 0.5)
    assert s.state == TileState.connecting and acts == [Action.START]


def test_eos_reconnects() -> None:
    c = Clock()
    s, _ = ts.open_(TileStatus(), c.now)
    s, _ = ts.progress(s, c.advance(1))
    s, a = ts.eos(s, c.advance(1))
    assert s.state == TileState.reconnecting and a == (Action.STOP,)


def test_url_error_is_final_until_next_open() -> None:
    c = Clock()
    s, _ = ts.open_(TileStatus(), c.now)
    s, a = ts.url_error(s, c.advance(0.1), "no RTSP")
    assert (s.state, s.reason, s.retry_at, a) == (TileState.error, "no RTSP", None, (Action.STOP,))
    s, acts = run_ticks(s, c, 60)
    assert s.state == TileState.error and acts == []
    s, a = ts.open_(s, c.now)
    assert s.state == TileState.connecting and s.reason == "" and a == (Action.START,)


def test_transient_url_error_retries() -> None:
    c = Clock()
    s, _ = ts.open_(TileStatus(), c.now)
    s, _ = ts.url_error(s, c.now, "server unreachable", retry=True)
    assert s.state == TileState.error and s.retry_at == s.since + 0.5


def test_close_from_any_state_and_late_events_ignored() -> None:
    c = Clock()
    s, _ = ts.open_(TileStatus(), c.now)
    s, a = ts.close(s, c.advance(1))
    assert (s.state, a) == (TileState.stopped, (Action.STOP,))
    for fn in (ts.progress, ts.eos, ts.vlc_error, ts.tick):
        s2, a2 = fn(s, c.advance(1))
        assert s2.state == TileState.stopped and a2 == ()
    assert ts.url_error(s, c.now, "x") == (s, ())
    assert ts.close(s, c.now) == (s, ())
    assert ts.close(TileStatus(), c.now) == (TileStatus(), ())  # never opened: nothing to stop
