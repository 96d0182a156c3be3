"""ServerSettings: defaults, env overrides, and a secret that stays out of repr."""
from __future__ import annotations

import pytest

from console.server.settings import ServerSettings


def test_secret_is_random_per_instance_and_not_in_repr() -> None:
    a, b = ServerSettings(), ServerSettings()
    assert a.media_secret != b.media_secret and len(a.media_secret) >= 16
    assert "media_secret" not in repr(a) and a.media_secret.hex() not in repr(a)


def test_default_db_is_sqlite_in_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setenv("RTCC_DATA_DIR", str(tmp_path))
    assert ServerSettings().db_url == f"sqlite:///{tmp_path}/server.db"


def test_env_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTCC_SERVER_PORT", "9100")
    monkeypatch.setenv("RTCC_SERVER_MEDIA_SECRET", "s" * 32)
    monkeypatch.setenv("RTCC_SERVER_ALWAYS_ON_PROFILES", "sub, main")
    s = ServerSettings.from_env(host="0.0.0.0", db_url=None)
    assert (s.port, s.host, s.media_secret) == (9100, "0.0.0.0", b"s" * 32)
    assert s.always_on_profiles == {"sub", "main"}
    monkeypatch.setenv("RTCC_SERVER_PORT", "not-a-port")
    with pytest.raises(ValueError, match="port"):
        ServerSettings.from_env()
