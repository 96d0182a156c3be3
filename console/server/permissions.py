"""Who may do what on the reference server. DENY BY DEFAULT.

Every ``/api/v1`` route declares exactly what it needs with ``Depends(require("x.y"))``
(or ``dependencies=[require_dep("x.y")]``). ``check_routes(app)`` runs when the app is
built and again at startup: an ``/api/v1`` route without a declared permission makes the
server refuse to start. The only exempt routes are ``POST /api/v1/auth/login`` (no user
yet), the media route ``GET /api/v1/media/{camera_id}/{profile}.ts`` and the recorded
media route ``GET /api/v1/recordings/{camera_id}/{profile}.ts``, which check their own
short-lived, camera-scoped (and range-bound) tokens instead of a bearer session.

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
events.read        OSTD   the live event stream (SSE) and its stored events
audit.read         AD     read and verify the audit log
alerts.read        OSTD   list / get alerts
alerts.create      STD    create alerts (simulator, integrations run as one of these;
                          trainers script exercises)
alerts.handle      OSTD   acknowledge / assign / escalate / close alerts
alpr.ingest        STD    post ALPR read batches (camera integrations and the simulator
                          run as one of these)
alpr.search        OSTD   plate search (needs a reason code and case number; audited)
alpr.covert        SD     see covert hotlists and their hits (others get 404, and a
                          covert hit's live event carries only its id); manage them
hotlists.read      all    list hotlists, entries, plate look-up, reject-rate stats
hotlists.write     SD     create / update / delete hotlists and entries, import files
hits.read          all    list / get hits (auditors review dispositions)
hits.dispose       OSTD   accept / reject a hit (reason code + case number; audited)
ptz.read           all    PTZ capabilities, lock holder, presets, position
ptz.control        OSTD   take / release the PTZ lock, move, stop, go to preset, home
                          (a supervisor/admin takeover needs reason + case; audited)
ptz.presets        SD     save / delete PTZ presets
bookmarks.read     all    list / search / get bookmarks (auditors review evidence)
bookmarks.write    OSTD   create (idempotent) / update bookmarks; protected ones only SD
bookmarks.delete   OSTD   delete own unprotected bookmarks; SD delete any
recordings.read    all    recorded time ranges of a camera
recordings.play    OSTD   playback URL of a recorded range (reason + case; audited)
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
    "events.read": _WATCHERS,
    "audit.read": frozenset({Role.auditor, Role.admin}),
    "alerts.read": _WATCHERS,
    "alerts.create": frozenset({Role.supervisor, Role.trainer, Role.admin}),
    "alerts.handle": _WATCHERS,
    "alpr.ingest": frozenset({Role.supervisor, Role.trainer, Role.admin}),
    "alpr.search": _WATCHERS,
    "alpr.covert": frozenset({Role.supervisor, Role.admin}),
    "hotlists.read": _ALL,
    "hotlists.write": frozenset({Role.supervisor, Role.admin}),
    "hits.read": _ALL,
    "hits.dispose": _WATCHERS,
    "ptz.read": _ALL,
    "ptz.control": _WATCHERS,
    "ptz.presets": frozenset({Role.supervisor, Role.admin}),
    "bookmarks.read": _ALL,
    "bookmarks.write": _WATCHERS,
    "bookmarks.delete": _WATCHERS,
    "recordings.read": _ALL,
    "recordings.play": _WATCHERS,
}

API_PREFIX = "/api/v1"
# (method, path regex) of the only routes that need no declared permission.
EXEMPT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"^/api/v1/auth/login$")),
    ("GET", re.compile(r"^/api/v1/media/\{[A-Za-z_]+\}/\{[A-Za-z_]+\}\.ts$")),
    # Recorded media: like the live media route it checks its own range-bound token
    # (issued by GET /cameras/{id}/recordings/media, which needs recordings.play).
    ("GET", re.compile(r"^/api/v1/recordings/\{[A-Za-z_]+\}/\{[A-Za-z_]+\}\.ts$")),
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
