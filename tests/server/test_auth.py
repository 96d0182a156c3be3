"""Login, logout, /me, and how failed logins behave and are logged."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from console.model import LoginResponse, Role, User
from tests.server.conftest import Server, password_of


def test_login_ok_returns_token_and_user(server: Server) -> None:
    r = server.login("supervisor", password_of("supervisor"))
    assert r.status_code == 200
    body = LoginResponse.model_validate(r.json())
    assert body.user == User(username="supervisor", role=Role.supervisor,
                             display_name="Test supervisor")
    assert body.expires_at > datetime.now(UTC)
    with server.client(token=body.access_token) as c:
        me = c.get("/api/v1/auth/me")
    assert me.status_code == 200 and User.model_validate(me.json()).username == "supervisor"


@pytest.mark.parametrize("username,password", [
    ("operator", "wrong-password"),
    ("nobody-by-that-name", "whatever-123"),
])
def test_bad_login_is_401_generic_and_logged_without_password(
        server: Server, caplog: pytest.LogCaptureFixture, username: str, password: str) -> None:
    with caplog.at_level(logging.INFO):
        r = server.login(username, password)
    assert r.status_code == 401
    assert r.json() == {"detail": "wrong username or password"}
    assert r.headers["www-authenticate"] == "Bearer"
    assert any("failed login" in rec.getMessage() and username in rec.getMessage()
               for rec in caplog.records)
    assert password not in caplog.text


def test_login_validation_names_the_field(server: Server) -> None:
    r = server.login("", "x")
    assert r.status_code == 422
    assert ["body", "username"] in [e["loc"] for e in r.json()["detail"]]


def test_logout_ends_the_session(server: Server) -> None:
    token = server.login("trainer", password_of("trainer")).json()["access_token"]
    with server.client(token=token) as c:
        assert c.get("/api/v1/auth/me").status_code == 200
        assert c.post("/api/v1/auth/logout").status_code == 204
        assert c.get("/api/v1/auth/me").status_code == 401


def test_expired_token_is_401(server: Server) -> None:
    token = server.login("admin", password_of("admin")).json()["access_token"]
    server.expire(token)
    with server.client(token=token) as c:
        r = c.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.json()["detail"] == "invalid or expired token"


def test_token_is_stored_only_as_hash(server: Server) -> None:
    from sqlalchemy import select

    from console.server import db
    token = server.login("auditor", password_of("auditor")).json()["access_token"]
    with server.engine.connect() as conn:
        stored = [r.token_hash for r in conn.execute(select(db.sessions.c.token_hash))]
    assert token not in stored
    assert len(stored) >= 1 and all(len(h) == 64 for h in stored)
