import pytest

from console.server.media.tokens import TokenError, issue, verify

KEY = b"k" * 32
NOW = 1_800_000_000.0


def reason(
    token: str,
    cam: str = "cam01",
    prof: str = "main",
    now: float = NOW,
    key: bytes = KEY,
) -> str:
    with pytest.raises(TokenError) as info:
        verify(key, token, cam, prof, now=now)
    return info.value.reason


def test_round_trip_and_compact_url_safe() -> None:
    token = issue(KEY, "cam01", "main", ttl_s=300, now=NOW)
    verify(KEY, token, "cam01", "main", now=NOW + 299)
    assert len(token) < 100
    assert all(c.isalnum() or c in "-_." for c in token)


def test_expired() -> None:
    assert (
        reason(issue(KEY, "cam01", "main", ttl_s=300, now=NOW), now=NOW + 301)
        == "expired"
    )


def test_wrong_stream() -> None:
    token = issue(KEY, "cam01", "main", now=NOW)
    assert reason(token, prof="sub") == "wrong stream"
    assert reason(token, cam="cam02") == "wrong stream"


def test_bad_signature_other_key_or_tampered_payload() -> None:
    token = issue(KEY, "cam01", "main", now=NOW)
    assert reason(token, key=b"other") == "bad signature"
    forged_body = issue(b"other", "cam01", "main", ttl_s=10**6, now=NOW).split(".")[0]
    assert reason(forged_body + "." + token.split(".")[1]) == "bad signature"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "!!!.###", "Zm9v." + "A" * 43])
def test_malformed(token: str) -> None:
    assert reason(token) in {"malformed", "bad signature"}
    if token != "Zm9v." + "A" * 43:
        assert reason(token) == "malformed"


def test_issue_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        issue(b"", "cam01", "main")
    with pytest.raises(ValueError):
        issue(KEY, "a/b", "main")
