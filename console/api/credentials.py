"""Credentials in the OS keyring, and nowhere else.

A backend that is not secure (keyring's ``fail`` backend, or keyrings.alt's
plaintext/encrypted-file stores) is refused with a clear message instead of
silently writing secrets to disk.
"""
from __future__ import annotations

import keyring
import keyring.errors

SERVICE = "rtcc-console"
_INSECURE_MODULES = ("keyring.backends.fail", "keyrings.alt", "keyring.backends.null")


class NoSecureStore(RuntimeError):
    pass


def _backend():
    backend = keyring.get_keyring()
    mod = type(backend).__module__
    if mod.startswith(_INSECURE_MODULES) or "Plaintext" in type(backend).__name__:
        raise NoSecureStore(
            f"no secure credential store available (keyring backend {mod}.{type(backend).__name__}); "
            "start a Secret Service (GNOME Keyring, KWallet) or use Windows Credential Locker. "
            "The password was not saved.")
    return backend


def _key(server_url: str, username: str) -> str:
    return f"{username}@{server_url.rstrip('/')}"


def save_password(server_url: str, username: str, password: str) -> None:
    try:
        _backend().set_password(SERVICE, _key(server_url, username), password)
    except keyring.errors.KeyringError as exc:
        raise NoSecureStore(f"keyring refused to store the password: {exc}") from exc


def load_password(server_url: str, username: str) -> str | None:
    try:
        return _backend().get_password(SERVICE, _key(server_url, username))
    except (NoSecureStore, keyring.errors.KeyringError):
        return None


def forget_password(server_url: str, username: str) -> None:
    try:
        _backend().delete_password(SERVICE, _key(server_url, username))
    except keyring.errors.PasswordDeleteError:
        pass
