"""Short-lived, stream-bound media URL tokens (HMAC-SHA256, url-safe, no server state).

token = b64url("<camera_id>/<profile>/<expiry unix s>") + "." + b64url(HMAC-SHA256(secret, payload))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time


class TokenError(Exception):
    """reason is one of: "expired", "bad signature", "wrong stream", "malformed"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, payload: bytes) -> bytes:
    if not secret:
        raise ValueError("media token secret must be non-empty bytes")
    return hmac.new(secret, payload, hashlib.sha256).digest()


def issue(
    secret: bytes,
    camera_id: str,
    profile: str,
    ttl_s: float = 300,
    now: float | None = None,
) -> str:
    if not camera_id or "/" in camera_id or not profile or "/" in profile:
        raise ValueError(f"tokens.issue: bad stream {camera_id!r}/{profile!r}")
    if ttl_s <= 0:
        raise ValueError(f"tokens.issue: ttl_s must be > 0, got {ttl_s}")
    expires = math.ceil((time.time() if now is None else now) + ttl_s)
    payload = f"{camera_id}/{profile}/{expires}".encode()
    return f"{_b64(payload)}.{_b64(_sign(secret, payload))}"


def verify(
    secret: bytes, token: str, camera_id: str, profile: str, now: float | None = None
) -> None:
    """Return None when the token grants camera_id/profile now; else raise TokenError(reason)."""
    try:
        body, _, sig_text = token.partition(".")
        payload, signature = _unb64(body), _unb64(sig_text)
    except (ValueError, binascii.Error, AttributeError):
        raise TokenError("malformed") from None
    if not body or len(signature) != hashlib.sha256().digest_size:
        raise TokenError("malformed")
    if not hmac.compare_digest(signature, _sign(secret, payload)):
        raise TokenError("bad signature")
    try:
        cam, prof, expires_text = payload.decode("utf-8").split("/")
        expires = int(expires_text)
    except ValueError:
        raise TokenError("malformed") from None
    if (cam, prof) != (camera_id, profile):
        raise TokenError("wrong stream")
    if (time.time() if now is None else now) >= expires:
        raise TokenError("expired")
