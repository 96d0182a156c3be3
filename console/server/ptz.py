"""PTZ control on the reference server: the control lock, the dead-man stop, the drivers.

The lock rule is a pure function (``decide``) of the current lock, the requester and the
time. ``PtzService`` keeps one lock per camera in memory (locks are live state: they die
with the process, like the dead-man timers that go with them) and runs ONE watchdog
thread that stops a continuous move not refreshed within ``deadman_s`` and expires locks
idle for ``lock_idle_s``. Driver calls block (a camera's API); routes call them in the
threadpool.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from console.model import PtzLock, PtzPosition, Role, User

log = logging.getLogger("rtcc.server.ptz")

LOCK_IDLE_S = 30.0
DEADMAN_S = 1.0

# Who outranks whom for the lock. Equal priority never takes over.
PRIORITY: dict[Role, int] = {Role.operator: 1, Role.trainer: 1, Role.supervisor: 2,
                             Role.admin: 2, Role.auditor: 0}


class PtzDriver(Protocol):
    """What the server needs from a PTZ camera (ONVIF, a vendor API, the simulator)."""

    def move(self, pan: float, tilt: float, zoom: float) -> None: ...
    def stop(self) -> None: ...
    def goto(self, position: PtzPosition) -> None: ...
    def home(self) -> None: ...
    def position(self) -> PtzPosition: ...


@dataclass(frozen=True)
class LockState:
    holder: str
    role: Role
    acquired_at: float  # unix seconds
    expires_at: float   # unix seconds

    def live(self, now: float) -> bool:
        return now < self.expires_at


class Verdict(enum.Enum):
    grant = "grant"            # free, expired, or already ours: take / renew
    takeover = "takeover"      # held by a lower priority: allowed with a justification
    refuse = "refuse"          # held by an equal or higher priority


def decide(current: LockState | None, user: User, now: float) -> Verdict:
    """The lock rule: operators and trainers < supervisors and admins; nobody takes over
    an equal; a lock that has expired is free."""
    if current is None or not current.live(now) or current.holder == user.username:
        return Verdict.grant
    if PRIORITY[user.role] > PRIORITY[current.role]:
        return Verdict.takeover
    return Verdict.refuse


def to_wire(camera_id: str, state: LockState | None) -> PtzLock:
    if state is None:
        return PtzLock(camera_id=camera_id)
    return PtzLock(camera_id=camera_id, holder=state.holder, role=state.role,
                   acquired_at=datetime.fromtimestamp(state.acquired_at, UTC),
                   expires_at=datetime.fromtimestamp(state.expires_at, UTC))


class LockHeld(Exception):
    """Someone else holds the lock (and the caller may not take it over)."""

    def __init__(self, camera_id: str, state: LockState) -> None:
        until = datetime.fromtimestamp(state.expires_at, UTC).isoformat(timespec="seconds")
        super().__init__(f"PTZ of camera {camera_id!r} is locked by {state.holder!r} "
                         f"({state.role.value}) until {until}")
        self.state = state


class NotHolder(Exception):
    """The caller must take the lock first."""


class NoDriver(Exception):
    """The camera has PTZ on paper but no driver is connected."""


@dataclass(frozen=True)
class TakeResult:
    lock: LockState
    previous: LockState | None  # the live lock replaced (None if free / expired / ours)
    verdict: Verdict


ExpiryHook = Callable[[str, LockState], None]


class PtzService:
    def __init__(self, *, lock_idle_s: float = LOCK_IDLE_S, deadman_s: float = DEADMAN_S,
                 clock: Callable[[], float] = time.time,
                 on_expired: ExpiryHook | None = None) -> None:
        self.lock_idle_s = lock_idle_s
        self.deadman_s = deadman_s
        self.clock = clock
        self.on_expired = on_expired
        self._drivers: dict[str, PtzDriver] = {}
        self._locks: dict[str, LockState] = {}
        self._moving: dict[str, float] = {}  # camera -> dead-man deadline (clock time)
        self._cond = threading.Condition()
        self._closed = False
        self._watchdog: threading.Thread | None = None

    # -- drivers -----------------------------------------------------------------------------
    def register_driver(self, camera_id: str, driver: PtzDriver) -> None:
        with self._cond:
            self._drivers[camera_id] = driver
        log.info("PTZ driver for camera %s: %s", camera_id, type(driver).__name__)

    def remove_driver(self, camera_id: str) -> None:
        with self._cond:
            self._drivers.pop(camera_id, None)
            self._moving.pop(camera_id, None)

    def driver(self, camera_id: str) -> PtzDriver:
        with self._cond:
            found = self._drivers.get(camera_id)
        if found is None:
            raise NoDriver(f"no PTZ driver is connected for camera {camera_id!r}")
        return found

    # -- the lock ----------------------------------------------------------------------------
    def lock(self, camera_id: str) -> LockState | None:
        with self._cond:
            return self._live(camera_id, self.clock())

    def take(self, camera_id: str, user: User, *, justified: bool) -> TakeResult:
        """Take or renew the lock. A takeover needs ``justified`` (reason + case checked by
        the caller); without it LockHeld is raised, as for a refusal."""
        with self._cond:
            now = self.clock()
            current = self._live(camera_id, now)
            verdict = decide(current, user, now)
            if verdict is Verdict.refuse or (verdict is Verdict.takeover and not justified):
                assert current is not None
                raise LockHeld(camera_id, current)
            mine = current is not None and current.holder == user.username
            state = LockState(user.username, user.role,
                              current.acquired_at if mine and current else now,
                              now + self.lock_idle_s)
            self._locks[camera_id] = state
            if verdict is Verdict.takeover:
                self._moving.pop(camera_id, None)
            self._ensure_watchdog()
            self._cond.notify_all()
            previous = current if current is not None and not mine else None
        if verdict is Verdict.takeover:
            self._halt(camera_id)  # the new holder starts from a still camera
        return TakeResult(state, previous, verdict)

    def restore(self, camera_id: str, previous: LockState | None) -> None:
        """Undo a take whose audit record could not be written."""
        with self._cond:
            if previous is None:
                self._locks.pop(camera_id, None)
            else:
                self._locks[camera_id] = previous

    def release(self, camera_id: str, user: User) -> LockState:
        with self._cond:
            state = self._holding(camera_id, user)
            del self._locks[camera_id]
            moving = self._moving.pop(camera_id, None) is not None
        if moving:
            self._halt(camera_id)
        return state

    def _live(self, camera_id: str, now: float) -> LockState | None:
        state = self._locks.get(camera_id)
        return state if state is not None and state.live(now) else None

    def _holding(self, camera_id: str, user: User) -> LockState:
        """The caller's live lock (renewed), or LockHeld / NotHolder. Call under _cond."""
        now = self.clock()
        state = self._live(camera_id, now)
        if state is None:
            raise NotHolder(f"take the PTZ lock of camera {camera_id!r} first "
                            f"(POST /api/v1/cameras/{camera_id}/ptz/lock)")
        if state.holder != user.username:
            raise LockHeld(camera_id, state)
        renewed = replace(state, expires_at=now + self.lock_idle_s)
        self._locks[camera_id] = renewed
        return renewed

    # -- commands (each requires the lock and renews it) -------------------------------------
    def move(self, camera_id: str, user: User, pan: float, tilt: float, zoom: float) -> None:
        driver = self.driver(camera_id)
        with self._cond:
            self._holding(camera_id, user)
        if pan == tilt == zoom == 0:
            self.stop(camera_id, user)
            return
        driver.move(pan, tilt, zoom)
        with self._cond:
            self._moving[camera_id] = self.clock() + self.deadman_s
            self._ensure_watchdog()
            self._cond.notify_all()

    def stop(self, camera_id: str, user: User) -> None:
        driver = self.driver(camera_id)
        with self._cond:
            self._holding(camera_id, user)
            self._moving.pop(camera_id, None)
        driver.stop()

    def goto(self, camera_id: str, user: User, position: PtzPosition) -> None:
        driver = self.driver(camera_id)
        with self._cond:
            self._holding(camera_id, user)
            self._moving.pop(camera_id, None)
        driver.goto(position)

    def home(self, camera_id: str, user: User) -> None:
        driver = self.driver(camera_id)
        with self._cond:
            self._holding(camera_id, user)
            self._moving.pop(camera_id, None)
        driver.home()

    def position(self, camera_id: str) -> PtzPosition:
        return self.driver(camera_id).position()

    def moving(self, camera_id: str) -> bool:
        with self._cond:
            return camera_id in self._moving

    # -- watchdog ----------------------------------------------------------------------------
    def _ensure_watchdog(self) -> None:
        if self._watchdog is None and not self._closed:
            self._watchdog = threading.Thread(target=self._watch, name="ptz-watchdog",
                                              daemon=True)
            self._watchdog.start()

    def _watch(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                now = self.clock()
                stale = [c for c, deadline in self._moving.items() if deadline <= now]
                for c in stale:
                    del self._moving[c]
                expired = [(c, s) for c, s in self._locks.items() if not s.live(now)]
                for c, _ in expired:
                    del self._locks[c]
                    self._moving.pop(c, None)
                if not stale and not expired:
                    deadlines = [*self._moving.values(), *(s.expires_at for s in self._locks.values())]
                    self._cond.wait(min(deadlines) - now if deadlines else None)
                    continue
            for camera_id in stale:
                log.info("PTZ %s: move not refreshed within %.1f s; stopping", camera_id,
                         self.deadman_s)
                self._halt(camera_id)
            for camera_id, state in expired:
                log.info("PTZ %s: lock of %s expired", camera_id, state.holder)
                if self.on_expired is not None:
                    try:
                        self.on_expired(camera_id, state)
                    except Exception:  # the watchdog must survive a failing hook
                        log.exception("PTZ %s: lock-expiry hook failed", camera_id)

    def _halt(self, camera_id: str) -> None:
        with self._cond:
            driver = self._drivers.get(camera_id)
        if driver is None:
            return
        try:
            driver.stop()
        except Exception:  # a camera that cannot be reached must not kill the watchdog
            log.exception("PTZ %s: stop failed", camera_id)

    def close(self) -> None:
        """Stop the watchdog (moving cameras get a last stop); idempotent."""
        with self._cond:
            self._closed = True
            moving = list(self._moving)
            self._moving.clear()
            self._cond.notify_all()
            watchdog, self._watchdog = self._watchdog, None
        for camera_id in moving:
            self._halt(camera_id)
        if watchdog is not None:
            watchdog.join(5)
