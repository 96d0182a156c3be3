"""console.wall.choose_profile: sub below the threshold, main above / when maximized, hysteresis."""
from __future__ import annotations

import pytest

from console.wall import choose_profile

T = 100_000  # threshold in device pixels for these tests
H = 0.2


def pick(current: str | None, w: int, h: int, maximized: bool = False) -> str:
    return choose_profile(current, w, h, maximized=maximized, threshold_px=T, hysteresis=H)  # type: ignore[arg-type]


def test_small_sub_large_main() -> None:
    assert pick(None, 100, 100) == "sub"
    assert pick(None, 400, 400) == "main"


def test_maximized_is_main_whatever_the_size() -> None:
    assert pick("sub", 10, 10, maximized=True) == "main"


@pytest.mark.parametrize("area", [85_000, 100_000, 115_000])
def test_inside_the_band_keeps_the_current_profile(area: int) -> None:
    assert pick("sub", area, 1) == "sub"
    assert pick("main", area, 1) == "main"


def test_leaving_the_band_switches() -> None:
    assert pick("sub", 120_001, 1) == "main"
    assert pick("main", 79_999, 1) == "sub"


def test_hovering_at_the_threshold_does_not_flap() -> None:
    current = "sub"
    changes = 0
    for area in [100_000 + d for d in (-500, 700, -900, 1500, -100)] * 20:
        nxt = pick(current, area, 1)
        changes += nxt != current
        current = nxt
    assert changes == 0


def test_defaults_on_a_1080p_screen() -> None:
    assert choose_profile(None, 1920, 1060, maximized=False) == "main"  # 1x1
    assert choose_profile(None, 960, 520, maximized=False) == "sub"  # 2x2
    assert choose_profile(None, 1280, 700, maximized=False) == "main"  # 1+5 big cell
    with pytest.raises(ValueError, match="hysteresis"):
        choose_profile(None, 1, 1, maximized=False, hysteresis=1.5)
