"""Users, passwords and bearer sessions of the reference server.

Passwords: argon2id (argon2-cffi). Sessions: opaque random tokens; only their SHA-256
is stored, with an expiry. Unknown users are verified against a dummy hash so a failed
login costs about the same whether or not the user exists. Passwords are never logged.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, delete, insert, select, update

from console.model import Role, User
from console.server import db

log = logging.getLogger("rtcc.server.auth")

_hasher = PasswordHasher()
_bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/login")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row) -> User:  # noqa: ANN001 - sqlalchemy Row
    return User(username=row.username, role=Role(row.role), display_name=row.display_name)


def get_user(engine: Engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(db.users).where(db.users.c.username == username)).first()
    return _user(row) if row else None


def put_user(engine: Engine, username: str, role: Role, password: str,
             display_name: str = "") -> User:
    """Create the user, or reset its role, name and password if it exists."""
    values = {"role": role.value, "display_name": display_name,
              "password_hash": hash_password(password)}
    with engine.begin() as conn:
        done = conn.execute(update(db.users).where(db.users.c.username == username)
                            .values(**values)).rowcount
        if not done:
            conn.execute(insert(db.users).values(username=username, **values))
    return User(username=username, role=role, display_name=display_name)


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(db.users).where(db.users.c.username == username)).first()
    if row is None:
        verify_password(_dummy_hash(), password)  # same cost as a real check
        return None
    if not verify_password(row.password_hash, password):
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(update(db.users).where(db.users.c.username == username)
                         .values(password_hash=hash_password(password)))
    return _user(row)


def create_session(engine: Engine, username: str, ttl_s: float) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = db.utcnow() + timedelta(seconds=ttl_s)
    with engine.begin() as conn:
        conn.execute(delete(db.sessions).where(db.sessions.c.expires_at < db.utcnow()))
        conn.execute(insert(db.sessions).values(token_hash=token_hash(token), username=username,
                                                expires_at=expires_at))
    return token, expires_at


def end_session(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(db.sessions).where(db.sessions.c.token_hash == token_hash(token)))


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail,
                         headers={"WWW-Authenticate": "Bearer"})


def session_user(engine: Engine, token: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(db.sessions.c.expires_at, db.users)
            .join(db.users, db.users.c.username == db.sessions.c.username)
            .where(db.sessions.c.token_hash == token_hash(token))).first()
    if row is None or db.as_utc(row.expires_at) <= db.utcnow():
        return None
    return _user(row)


def bearer_token(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise _unauthorized("not authenticated")
    return creds.credentials


def current_user(request: Request, token: Annotated[str, Depends(bearer_token)]) -> User:
    user = session_user(request.app.state.engine, token)
    if user is None:
        raise _unauthorized("invalid or expired token")
    return user
