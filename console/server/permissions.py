"""Who may do what on the reference server. DENY BY DEFAULT.

Every ``/api/v1`` route declares exactly what it needs with ``Depends(require("x.y"))``
(or ``dependencies=[require_dep("x.y")]``). ``check_routes(app)`` runs when the app is
built and again at startup: an ``/api/v1`` route without a declared permission makes the
server refuse to start. The only exempt routes are ``POST /api/v1/auth/login`` (no user
yet) and the media route ``GET /api/v1/media/{camera_id}/{profile}.ts``, which checks its
own short-lived, camera-scoped stream token instead of a bearer session.

Matrix (O operator, S supervisor, T trainer, A auditor, D admin):

=================  =====  =====================================================
permission         roles  what for
=================  =====  =====================================================
session.self       all    ``/auth/me``, ``/auth/logout``
cameras.read       all    list / get cameras (auditors check what exists)
media.view         OSTD   stream URLs with tokens; auditors audit, they do not watch
cameras.write      D      create / update / delete cameras and their sources
stations.read      all    list / get stations
stations.write     SD     create / update / delete stations
layouts.read       OSTD   read wall layouts
layouts.write      OSTD   create / replace / delete layouts (operators arrange
                          their own walls; any station, kept simple for now)
users.read         D      list users
users.write        D      create / delete users
=================  =====  =====================================================
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import fastapi.routing
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from console.model import Role, User
from console.server.auth import current_user

_ALL = frozenset(Role)
_WATCHERS = frozenset({Role.operator, Role.supervisor, Role.trainer, Role.admin})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "session.self": _ALL,
    "cameras.read": _ALL,
    "media.view": _WATCHERS,
    "cameras.write": frozenset({Role.admin}),
    "stations.read": _ALL,
    "stations.write": frozenset({Role.supervisor, Role.admin}),
    "layouts.read": _WATCHERS,
    "layouts.write": _WATCHERS,
    "users.read": frozenset({Role.admin}),
    "users.write": frozenset({Role.admin}),
}

API_PREFIX = "/api/v1"
# (method, path regex) of the only routes that need no declared permission.
EXEMPT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"^/api/v1/auth/login$")),
    ("GET", re.compile(r"^/api/v1/media/\{[A-Za-z_]+\}/\{[A-Za-z_]+\}\.ts$")),
)


def allowed(role: Role, permission: str) -> bool:
    return role in PERMISSIONS[permission]


class Requirement:
    """The dependency that enforces one permission; recognisable by ``check_routes``."""

    def __init__(self, permission: str) -> None:
        if permission not in PERMISSIONS:
            raise KeyError(f"unknown permission {permission!r}; declare it in PERMISSIONS")
        self.permission = permission

    def __call__(self, user: Annotated[User, Depends(current_user)]) -> User:
        if not allowed(user.role, self.permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role {user.role.value!r} lacks permission {self.permission!r}")
        return user

    def __repr__(self) -> str:
        return f"Requirement({self.permission!r})"


def require(permission: str) -> Requirement:
    """Use as ``user: Annotated[User, Depends(require("layouts.write"))]``."""
    return Requirement(permission)


def require_dep(permission: str):  # noqa: ANN201 - fastapi.params.Depends
    """For ``dependencies=[require_dep("x")]`` when the handler does not need the user."""
    return Depends(Requirement(permission))


def _requirements(dep: Dependant) -> Iterator[Requirement]:
    if isinstance(dep.call, Requirement):
        yield dep.call
    for sub in dep.dependencies:
        yield from _requirements(sub)


@dataclass(frozen=True)
class RouteInfo:
    methods: tuple[str, ...]
    path: str
    permissions: tuple[str, ...]
    is_api_route: bool  # a FastAPI APIRoute (not a websocket, mount or plain Starlette route)


def iter_routes(app: FastAPI) -> Iterator[RouteInfo]:
    """Every effective route of the app, with the permissions its dependencies declare
    (FastAPI >= 0.13x includes routers lazily: walk the effective route contexts)."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in flatten(app.routes) if flatten else app.routes:
        original = getattr(route, "original_route", route)
        dependant = getattr(route, "dependant", None)
        perms = tuple(r.permission for r in _requirements(dependant)) if dependant else ()
        yield RouteInfo(tuple(sorted(getattr(route, "methods", None) or ())),
                        getattr(route, "path", "") or "", perms, isinstance(original, APIRoute))


def exempt(methods: tuple[str, ...], path: str) -> bool:
    return bool(methods) and all(any(m == em and rx.match(path) for em, rx in EXEMPT)
                                 for m in methods)


class UnguardedRouteError(RuntimeError):
    pass


def check_routes(app: FastAPI) -> None:
    """Refuse any /api/v1 route that declares no permission (deny by default)."""
    bad: list[str] = []
    for r in iter_routes(app):
        if not r.path.startswith(API_PREFIX) or exempt(r.methods, r.path):
            continue
        if not r.is_api_route:
            bad.append(f"{','.join(r.methods) or 'non-HTTP route'} {r.path} (not an APIRoute)")
        elif not r.permissions:
            bad.append(f"{','.join(r.methods)} {r.path}")
    if bad:
        raise UnguardedRouteError("routes without a declared permission: " + "; ".join(bad))
