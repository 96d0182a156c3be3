"""The camera catalog the console works from: an evented list of ``console.model.Camera``."""
from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from psygnal import Signal, SignalGroup

from console.model import Camera

NO_DIVISION = "No division"


class CatalogEvents(SignalGroup):
    changed = Signal()  # the whole list was replaced


def division_label(camera: Camera) -> str:
    if camera.division is None:
        return NO_DIVISION
    name = camera.division_name or f"Area {camera.division}"
    return f"{camera.division:02d} {name}"


def group_cameras(cameras: Iterable[Camera]) -> list[tuple[str, list[tuple[str, list[Camera]]]]]:
    """[(division label, [(owner agency, [cameras by name])])], divisions by number (none last)."""

    def div_key(c: Camera) -> tuple[int, str]:
        return (c.division if c.division is not None else 99, division_label(c))

    out: list[tuple[str, list[tuple[str, list[Camera]]]]] = []
    ordered = sorted(cameras, key=lambda c: (div_key(c), c.owner_agency.casefold(),
                                             c.name.casefold(), c.id))
    for (_, label), in_div in groupby(ordered, key=div_key):
        owners = [(owner, list(cams)) for owner, cams in groupby(in_div, key=lambda c: c.owner_agency)]
        out.append((label, owners))
    return out


class CameraCatalog:
    def __init__(self, cameras: Iterable[Camera] = ()) -> None:
        self.events = CatalogEvents()
        self._cameras: list[Camera] = []
        self._by_id: dict[str, Camera] = {}
        self._haystack: dict[str, str] = {}
        self._replace(cameras)

    def _replace(self, cameras: Iterable[Camera]) -> None:
        self._cameras = list(cameras)
        self._by_id = {c.id: c for c in self._cameras}
        self._haystack = {
            c.id: " ".join((c.name, c.id, division_label(c), c.owner_agency)).casefold()
            for c in self._cameras
        }

    def set_cameras(self, cameras: Iterable[Camera]) -> None:
        self._replace(cameras)
        self.events.changed.emit()

    @property
    def cameras(self) -> tuple[Camera, ...]:
        return tuple(self._cameras)

    def __len__(self) -> int:
        return len(self._cameras)

    def get(self, camera_id: str) -> Camera | None:
        return self._by_id.get(camera_id)

    def search(self, text: str) -> list[Camera]:
        """Cameras whose name, id, division or agency contain every word of ``text``."""
        words = text.casefold().split()
        if not words:
            return list(self._cameras)
        return [c for c in self._cameras if all(w in self._haystack[c.id] for w in words)]

    def grouped(self, text: str = "") -> list[tuple[str, list[tuple[str, list[Camera]]]]]:
        return group_cameras(self.search(text))
