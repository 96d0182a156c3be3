"""``/api/v1/users``: admin-only user management (list, create, delete)."""
from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import Field
from sqlalchemy import delete, select

from console.model import Role, User, Wire
from console.server import auth, db
from console.server.permissions import require, require_dep

log = logging.getLogger("rtcc.server.users")

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserIn(Wire):
    username: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Role
    display_name: str = Field(default="", max_length=200)
    password: str = Field(min_length=8, max_length=1024)


@router.get("", response_model=list[User], dependencies=[require_dep("users.read")])
def list_users(request: Request) -> list[User]:
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(db.users).order_by(db.users.c.username)).all()
    return [User(username=r.username, role=Role(r.role), display_name=r.display_name)
            for r in rows]


@router.post("", response_model=User, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, request: Request,
                admin: Annotated[User, Depends(require("users.write"))]) -> User:
    engine = request.app.state.engine
    if auth.get_user(engine, body.username) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists")
    user = auth.put_user(engine, body.username, body.role, body.password, body.display_name)
    log.info("user %s (%s) created by %s", user.username, user.role.value, admin.username)
    return user


@router.delete("/{username}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(username: str, request: Request,
                admin: Annotated[User, Depends(require("users.write"))]) -> None:
    if username == admin.username:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "username: cannot delete yourself")
    with request.app.state.engine.begin() as conn:
        # sessions go first (also covered by ON DELETE CASCADE where the engine enforces it)
        conn.execute(delete(db.sessions).where(db.sessions.c.username == username))
        gone = conn.execute(delete(db.users).where(db.users.c.username == username)).rowcount
    if not gone:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {username!r}")
    log.info("user %s deleted by %s", username, admin.username)
