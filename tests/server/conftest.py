"""A real reference server on 127.0.0.1 (free port) and HTTP clients.

The session ``server`` fixture is parametrized over the storage backends: every server
test runs against SQLite (temp file) and PostgreSQL (a throwaway cluster started for the
session, see tests/support/postgres.py). Without PostgreSQL installed the ``postgresql``
runs FAIL with a message saying how to install it; they are not skipped.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine, update

from console.model import Role
from console.server import auth, db
from console.server.app import create_app
from console.server.runner import ServerHandle
from console.server.settings import ServerSettings
from tests.support.postgres import PostgresCluster, PostgresUnavailable

BACKENDS = ("sqlite", "postgresql")


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

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

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


def login_all(url: str) -> dict[Role, str]:
    tokens = {}
    for role in Role:
        r = httpx.post(f"{url}/api/v1/auth/login",
                       json={"username": role.value, "password": password_of(role)})
        r.raise_for_status()
        tokens[role] = r.json()["access_token"]
    return tokens


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """The session's PostgreSQL cluster, started on first use."""
    cluster = PostgresCluster()
    try:
        cluster.start()
    except PostgresUnavailable as exc:
        cluster.stop()
        pytest.fail(f"PostgreSQL backend tests need a local PostgreSQL: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def new_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Callable[[str], str]:
    """``new_db_url(backend)``: the URL of a fresh, empty database on that backend."""
    count = 0

    def make(backend: str) -> str:
        nonlocal count
        count += 1
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db')}/server{count}.db"
        if backend == "postgresql":
            return request.getfixturevalue("postgres").create_database()
        raise ValueError(f"unknown backend {backend!r}")
    return make


def start_server(db_url: str, **settings: object) -> tuple[ServerHandle, ServerSettings]:
    cfg = ServerSettings(db_url=db_url, port=0, **settings)
    return ServerHandle(create_app(cfg)).start(), cfg


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, new_db_url: Callable[[str], str]) -> Iterator[Server]:
    url = new_db_url(request.param)
    seed_users(url)
    handle, settings = start_server(url)
    engine = db.make_engine(settings.db_url)
    try:
        yield Server(handle, settings, engine, login_all(handle.url))
    finally:
        engine.dispose()
        handle.stop()
