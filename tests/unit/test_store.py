from console.model import Camera, Cell, Layout, StreamInfo
from console.store import LocalStore


def _camera(cid: str) -> Camera:
    return Camera(id=cid, name=f"Cam {cid}", owner_agency="LAPD", lat=34.05, lon=-118.25,
                  streams=[StreamInfo(profile="sub", url="http://gw/x.ts?token=SECRET", width=640,
                                      height=360, fps=15)])


def test_catalog_and_layouts_survive_reopen_without_tokens(tmp_path):
    path = tmp_path / "store.sqlite"
    store = LocalStore(path)
    store.save_catalog("http://a", [_camera("c1"), _camera("c2")])
    lay = Layout(id=3, station_id="s1", screen=0, name="main", kind="2x2", rows=2, cols=2,
                 cells=[Cell(row=0, col=0, camera_id="c1")])
    store.save_layouts("http://a", "s1", [lay])
    store.close()

    again = LocalStore(path)
    cams = again.load_catalog("http://a")
    assert [c.id for c in cams] == ["c1", "c2"]
    assert all(s.url == "" for c in cams for s in c.streams), "tokens must not be cached"
    assert again.load_layouts("http://a", "s1") == [lay]
    assert again.load_catalog("http://other") == []
    assert again.saved_at("http://a", "catalog") is not None
    assert "SECRET" not in path.read_bytes().decode("latin-1")
    again.close()
