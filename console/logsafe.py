"""Keep credentials out of log lines: mask URL userinfo and secret-looking query values."""

from __future__ import annotations

import logging
import re
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit, urlunsplit

MASK = "***"
# A query key is secret when its lower-cased name contains one of these.
_SECRET_KEY_PARTS = (
    "token",
    "pass",
    "pwd",
    "secret",
    "key",
    "auth",
    "sig",
    "cred",
    "session",
)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_USERINFO = re.compile(r"(?<=://)[^/@\s?#]*@")
# a query parameter inside free text without a scheme, e.g. a request path in an access log
_QUERY_PARAM = re.compile(r"(?P<lead>[?&])(?P<key>[A-Za-z0-9_.-]+)=(?P<value>[^&\s'\"<>#]+)")


def _secret_key(name: str) -> bool:
    low = name.lower()
    return any(part in low for part in _SECRET_KEY_PARTS)


def mask_url(url: str) -> str:
    """Return url with userinfo replaced by *** and secret query values replaced by ***.

    Never raises: text that does not parse as a URL still loses anything shaped like userinfo."""
    try:
        parts: SplitResult = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = MASK + "@" + netloc.rpartition("@")[2]
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = "&".join(
                f"{quote(k, safe='')}={MASK if _secret_key(k) else quote(v, safe='')}"
                for k, v in pairs
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return _USERINFO.sub(MASK + "@", url)


def mask_text(text: str, *secrets: str) -> str:
    """Mask every URL inside free text (e.g. an ffmpeg error line) and any literal secret given."""
    out = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    out = _QUERY_PARAM.sub(lambda m: f"{m['lead']}{m['key']}={MASK}" if _secret_key(m["key"])
                           else m.group(0), out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, MASK)
    return out


def url_secrets(url: str) -> list[str]:
    """The literal secrets in a URL (password, user, secret query values), raw and %-decoded,
    so tools that print them outside a URL can still be masked by mask_text."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        if parts.password:
            found.append(parts.password)
        if "@" in parts.netloc:
            userinfo = parts.netloc.rpartition("@")[0]
            found += [p for p in userinfo.split(":", 1) if len(p) >= 3]
        found += [v for k, v in parse_qsl(parts.query) if _secret_key(k) and v]
    except ValueError:
        pass
    found += [unquote(s) for s in found]
    # Longest first so a secret containing another is masked whole.
    return sorted({s for s in found if s}, key=len, reverse=True)


def _mask_value(value: object) -> object:
    if not isinstance(value, str):
        return value
    if "://" in value:
        return mask_text(value)
    if "?" in value:  # a request path such as /api/v1/media/c/main.ts?token=...
        return mask_url(value)
    return value


class SecretMaskFilter(logging.Filter):
    """Logger/handler filter masking URLs and query secrets in a record's message and args.

    Install on loggers that print request lines, e.g. logging.getLogger("uvicorn.access")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _mask_value(v) for k, v in record.args.items()}
        return True
