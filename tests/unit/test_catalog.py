"""console.catalog: search and grouping by division then owner agency."""
from __future__ import annotations

from console.catalog import NO_DIVISION, CameraCatalog, group_cameras
from console.model import Camera


def cam(id_: str, name: str, owner: str, division: int | None, dname: str | None = None) -> Camera:
    return Camera(id=id_, name=name, owner_agency=owner, division=division,
                  division_name=dname, lat=34.0, lon=-118.2)


CAMS = [
    cam("c1", "Main St & 5th", "LAPD", 1, "Central"),
    cam("c2", "I-10 at Alameda", "Caltrans", 1, "Central"),
    cam("c3", "Hollywood & Vine", "LAPD", 6, "Hollywood"),
    cam("c4", "Unassigned pole", "Metro", None),
    cam("c5", "Broadway", "LAPD", 1, "Central"),
]


def test_get_and_changed_event() -> None:
    cat = CameraCatalog()
    fired: list[int] = []
    cat.events.changed.connect(lambda: fired.append(len(cat)))
    cat.set_cameras(CAMS)
    assert fired == [5]
    assert cat.get("c3") is CAMS[2] and cat.get("nope") is None


def test_search_matches_name_id_division_agency_all_words() -> None:
    cat = CameraCatalog(CAMS)
    assert [c.id for c in cat.search("hollywood")] == ["c3"]
    assert [c.id for c in cat.search("C2")] == ["c2"]
    assert [c.id for c in cat.search("central lapd")] == ["c1", "c5"]
    assert [c.id for c in cat.search("caltrans")] == ["c2"]
    assert len(cat.search("   ")) == 5
    assert cat.search("zzz") == []


def test_grouping_division_then_owner() -> None:
    groups = group_cameras(CAMS)
    assert [g[0] for g in groups] == ["01 Central", "06 Hollywood", NO_DIVISION]
    central = dict(groups[0][1])
    assert list(central) == ["Caltrans", "LAPD"]
    assert [c.name for c in central["LAPD"]] == ["Broadway", "Main St & 5th"]
    assert CameraCatalog(CAMS).grouped("metro") == [(NO_DIVISION, [("Metro", [CAMS[3]])])]
