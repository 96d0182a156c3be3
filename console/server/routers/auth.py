"""``/api/v1/auth``: login, logout, me."""
from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status

from console.model import LoginRequest, LoginResponse, User
from console.server import audit, auth
from console.server.permissions import require

log = logging.getLogger("rtcc.server.auth")

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login", response_model=LoginResponse,
             responses={401: {"description": "wrong username or password"}})
def login(body: LoginRequest, request: Request) -> LoginResponse:
    state = request.app.state
    user = auth.authenticate(state.engine, body.username, body.password)
    if user is None:
        client = request.client.host if request.client else "?"
        log.warning("failed login for user %r from %s", body.username[:64], client)
        with state.engine.begin() as conn:
            audit.append(conn, username=body.username, role=None, action="auth.login",
                         target=f"user/{body.username[:64]}", outcome="denied",
                         detail={"client": client})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    token, expires_at = auth.create_session(state.engine, user.username,
                                            state.settings.token_ttl_s)
    with state.engine.begin() as conn:
        audit.record(conn, user=user, action="auth.login", target=f"user/{user.username}",
                     detail={"client": request.client.host if request.client else "?"})
    log.info("login %s (%s)", user.username, user.role.value)
    return LoginResponse(access_token=token, expires_at=expires_at, user=user)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, user: Annotated[User, Depends(require("session.self"))],
           token: Annotated[str, Depends(auth.bearer_token)]) -> None:
    auth.end_session(request.app.state.engine, token)
    log.info("logout %s", user.username)


@router.get("/me", response_model=User)
def me(user: Annotated[User, Depends(require("session.self"))]) -> User:
    return user
