import pytest

from console import config


def test_defaults_when_missing(tmp_path):
    s = config.load(tmp_path / "none.toml", environ={})
    assert s.schema_version == config.SCHEMA_VERSION
    assert s.server.verify_tls is True


def test_roundtrip_and_env_override(tmp_path):
    path = tmp_path / "s.toml"
    s = config.Settings()
    s.server.url = 'https://rtcc.example:8443/"quoted"'
    s.wall.hysteresis = 0.3
    config.save(s, path)
    loaded = config.load(path, environ={"RTCC_SERVER__TIMEOUT_S": "3.5", "RTCC_STATION__ID": "wf-2"})
    assert loaded.server.url == s.server.url
    assert loaded.wall.hysteresis == 0.3
    assert loaded.server.timeout_s == 3.5
    assert loaded.station.id == "wf-2"


def test_v1_file_is_migrated_not_wiped(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text('schema_version = 1\nserver_url = "http://10.0.0.5:8470"\nstation_id = "west-3"\n')
    s = config.load(path, environ={})
    assert s.server.url == "http://10.0.0.5:8470"
    assert s.station.id == "west-3"
    assert s.schema_version == 2


@pytest.mark.parametrize("text, fragment", [
    ("schema_version = 2\n[wall]\nhysteresis = 7\n", "wall.hysteresis"),
    ("schema_version = 99\n", "newer"),
    ("this is = = not toml", "not valid TOML"),
    ("schema_version = 2\n[server]\nbogus = 1\n", "server.bogus"),
])
def test_bad_files_name_the_place(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(config.SettingsError) as err:
        config.load(path, environ={})
    assert str(path) in str(err.value)
    assert fragment in str(err.value)


def test_no_secret_fields():
    fields = {f for sec in ("server", "station", "wall")
              for f in type(getattr(config.Settings(), sec)).model_fields}
    assert not {f for f in fields if "password" in f or "secret" in f or "token" in f}


def test_tls_verification_stays_on_unless_a_ca_bundle_or_explicit_opt_out():
    s = config.Settings()
    assert s.tls_verify() is True
    s.server.ca_bundle = "/etc/rtcc/internal-ca.pem"
    assert s.tls_verify() == "/etc/rtcc/internal-ca.pem"
    s.server.ca_bundle, s.server.verify_tls = "", False
    assert s.tls_verify() is False
