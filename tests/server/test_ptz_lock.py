"""The PTZ lock rule (pure) and PtzService's lock bookkeeping on an injected clock."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from console.model import Role, User
from console.server.ptz import (
    LockHeld,
    LockState,
    NoDriver,
    NotHolder,
    PtzService,
    Verdict,
    decide,
)

OP = User(username="olga", role=Role.operator)
OP2 = User(username="omar", role=Role.operator)
TR = User(username="tina", role=Role.trainer)
SUP = User(username="sam", role=Role.supervisor)
ADM = User(username="ada", role=Role.admin)


def held(user: User, expires_at: float = 100.0) -> LockState:
    return LockState(user.username, user.role, 0.0, expires_at)


@pytest.mark.parametrize(("current", "user", "verdict"), [
    (None, OP, Verdict.grant),
    (held(OP), OP, Verdict.grant),                    # renew
    (held(OP, expires_at=10.0), OP2, Verdict.grant),  # expired: free
    (held(OP), OP2, Verdict.refuse),
    (held(OP), TR, Verdict.refuse),                   # equal priority
    (held(OP), SUP, Verdict.takeover),
    (held(TR), ADM, Verdict.takeover),
    (held(SUP), ADM, Verdict.refuse),
    (held(SUP), OP, Verdict.refuse),
])
def test_decide(current: LockState | None, user: User, verdict: Verdict) -> None:
    assert decide(current, user, now=50.0) is verdict


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> Iterator[PtzService]:
    s = PtzService(lock_idle_s=30.0, clock=clock)
    yield s
    s.close()


def test_take_renew_and_expiry(service: PtzService, clock: Clock) -> None:
    first = service.take("c1", OP, justified=False)
    assert (first.verdict, first.previous, first.lock.expires_at) == (Verdict.grant, None, 1030.0)
    clock.t += 20
    renewed = service.take("c1", OP, justified=False)
    assert renewed.lock.acquired_at == 1000.0 and renewed.lock.expires_at == 1050.0
    with pytest.raises(LockHeld, match=r"locked by 'olga' \(operator\) until"):
        service.take("c1", OP2, justified=False)
    clock.t += 31  # idle past the expiry
    assert service.lock("c1") is None
    assert service.take("c1", OP2, justified=False).lock.holder == "omar"


def test_takeover_needs_justification(service: PtzService) -> None:
    service.take("c1", OP, justified=False)
    with pytest.raises(LockHeld):
        service.take("c1", SUP, justified=False)
    result = service.take("c1", SUP, justified=True)
    assert result.verdict is Verdict.takeover and result.previous is not None
    assert result.previous.holder == "olga"
    service.restore("c1", result.previous)  # e.g. the audit write failed
    assert service.lock("c1").holder == "olga"  # type: ignore[union-attr]


def test_release_only_by_the_holder(service: PtzService) -> None:
    with pytest.raises(NotHolder, match="take the PTZ lock of camera 'c1' first"):
        service.release("c1", OP)
    service.take("c1", OP, justified=False)
    with pytest.raises(LockHeld):
        service.release("c1", OP2)
    assert service.release("c1", OP).holder == "olga"
    assert service.lock("c1") is None


def test_commands_without_a_driver(service: PtzService) -> None:
    service.take("c1", OP, justified=False)
    with pytest.raises(NoDriver, match="no PTZ driver is connected for camera 'c1'"):
        service.move("c1", OP, 0.5, 0, 0)


def test_expired_lock_is_announced_by_the_watchdog() -> None:
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def expired(camera_id: str, state: LockState) -> None:
        seen.append((camera_id, state.holder))
        done.set()

    before = set(threading.enumerate())
    service = PtzService(lock_idle_s=0.2, on_expired=expired)
    try:
        service.take("c9", OP, justified=False)
        assert done.wait(10), "the watchdog did not expire the lock"
        assert seen == [("c9", "olga")] and service.lock("c9") is None
    finally:
        service.close()
    assert not [t for t in set(threading.enumerate()) - before if t.name == "ptz-watchdog"]
