"""A real reference server on 127.0.0.1 (free port, temp SQLite db) and HTTP clients."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, update

from console.model import Role
from console.server import auth, db
from console.server.app import create_app
from console.server.runner import ServerHandle
from console.server.settings import ServerSettings


def password_of(role: Role | str) -> str:
    return f"{Role(role).value}-Pass-1234"


@dataclass
class Server:
    handle: ServerHandle
    settings: ServerSettings
    engine: Engine
    tokens: dict[Role, str]

    @property
    def url(self) -> str:
        return self.handle.url

    def client(self, role: Role | str | None = None, token: str | None = None) -> httpx.Client:
        headers = {}
        if role is not None:
            token = self.tokens[Role(role)]
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def login(self, username: str, password: str) -> httpx.Response:
        with httpx.Client(base_url=self.url, timeout=10) as c:
            return c.post("/api/v1/auth/login", json={"username": username, "password": password})

    def expire(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(db.sessions).where(db.sessions.c.token_hash == auth.token_hash(token))
                         .values(expires_at=db.utcnow().replace(year=2000)))


def seed_users(db_url: str) -> None:
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        for role in Role:
            auth.put_user(engine, role.value, role, password_of(role), f"Test {role.value}")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path: Path = tmp_path_factory.mktemp("server") / "server.db"
    settings = ServerSettings(db_url=f"sqlite:///{path}", port=0)
    seed_users(settings.db_url)
    handle = ServerHandle(create_app(settings)).start()
    engine = db.make_engine(settings.db_url)
    try:
        tokens = {}
        for role in Role:
            r = httpx.post(f"{handle.url}/api/v1/auth/login",
                           json={"username": role.value, "password": password_of(role)})
            r.raise_for_status()
            tokens[role] = r.json()["access_token"]
        yield Server(handle, settings, engine, tokens)
    finally:
        engine.dispose()
        handle.stop()
