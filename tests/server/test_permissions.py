"""Deny by default: every /api/v1 route needs a token and a declared permission, and the
role x route matrix is enforced over real HTTP."""
from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI, WebSocket

from console.model import Role
from console.server import permissions
from console.server.app import create_app
from console.server.permissions import (PERMISSIONS, RouteInfo, UnguardedRouteError, check_routes,
                                        exempt, iter_routes, require, require_dep)
from console.server.runner import ServerHandle, ServerStartError
from console.server.settings import ServerSettings
from tests.server.conftest import Server, password_of


def _app() -> FastAPI:
    return create_app(ServerSettings(db_url="sqlite://"))  # never started here


API_ROUTES = [r for r in iter_routes(_app()) if r.path.startswith("/api/v1")]
PROTECTED = [r for r in API_ROUTES if not exempt(r.methods, r.path)]
SAMPLE_PARAMS = {"layout_id": "999999", "profile": "main"}


def _path(route: RouteInfo) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "no-such-id"), route.path)


def _call(server: Server, route: RouteInfo, **client_args: object) -> int:
    (method,) = route.methods
    if route.path == "/api/v1/auth/logout" and "role" in client_args:
        # never end the shared session of a role: log out a fresh one
        role = Role(client_args.pop("role"))
        client_args["token"] = server.login(role.value, password_of(role)).json()["access_token"]
    with server.client(**client_args) as c:
        body = {} if method in ("POST", "PUT") else None
        return c.request(method, _path(route), json=body).status_code


def _id(route: RouteInfo) -> str:
    return f"{'/'.join(route.methods)} {route.path}"


def test_routes_found() -> None:
    assert len(PROTECTED) >= 20, [_id(r) for r in PROTECTED]
    assert all(len(r.methods) == 1 for r in PROTECTED)


def test_only_login_and_media_are_exempt() -> None:
    # media routes check their own short-lived, stream-scoped tokens instead of a session
    assert {_id(r) for r in API_ROUTES if exempt(r.methods, r.path)} == {
        "POST /api/v1/auth/login", "GET /api/v1/media/{camera_id}/{profile}.ts",
        "GET /api/v1/recordings/{camera_id}/{profile}.ts"}


@pytest.mark.parametrize("route", PROTECTED, ids=_id)
def test_every_route_declares_a_known_permission(route: RouteInfo) -> None:
    assert route.permissions and set(route.permissions) <= set(PERMISSIONS)


@pytest.fixture(scope="module")
def expired_admin_token(server: Server) -> str:
    token = server.login("admin", password_of("admin")).json()["access_token"]
    server.expire(token)
    return token


@pytest.mark.parametrize("route", PROTECTED, ids=_id)
def test_every_route_needs_a_valid_token(server: Server, route: RouteInfo,
                                         expired_admin_token: str) -> None:
    assert _call(server, route) == 401
    assert _call(server, route, token="not-a-token") == 401
    assert _call(server, route, token=expired_admin_token) == 401


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("route", PROTECTED, ids=_id)
def test_role_matrix(server: Server, route: RouteInfo, role: Role) -> None:
    allowed = all(role in PERMISSIONS[p] for p in route.permissions)
    status = _call(server, route, role=role)
    if allowed:
        assert status not in (401, 403), f"{role.value} denied on {_id(route)}"
    else:
        assert status == 403, f"{role.value} got {status} on {_id(route)}"


def test_docstring_matrix_matches_table() -> None:
    letters = {"O": Role.operator, "S": Role.supervisor, "T": Role.trainer, "A": Role.auditor,
               "D": Role.admin}
    doc = {}
    for m in re.finditer(r"^([a-z]+\.[a-z]+)\s+(all|[OSTAD]+)\s", permissions.__doc__ or "", re.M):
        doc[m.group(1)] = set(Role) if m.group(2) == "all" else {letters[c] for c in m.group(2)}
    assert doc == {k: set(v) for k, v in PERMISSIONS.items()}


def test_auditors_may_list_cameras_but_not_view_media() -> None:
    assert Role.auditor in PERMISSIONS["cameras.read"]
    assert Role.auditor not in PERMISSIONS["media.view"]


def _rogue_router() -> APIRouter:
    r = APIRouter()

    @r.get("/api/v1/rogue")
    def rogue() -> int:
        return 1
    return r


def test_guard_refuses_a_route_without_permission() -> None:
    app = _app()
    app.include_router(_rogue_router())
    with pytest.raises(UnguardedRouteError, match=r"GET /api/v1/rogue"):
        check_routes(app)


def test_guard_stops_the_server_from_starting(tmp_path) -> None:  # noqa: ANN001
    app = create_app(ServerSettings(db_url=f"sqlite:///{tmp_path}/x.db"))
    app.include_router(_rogue_router())  # added after create_app: caught at startup
    with pytest.raises(ServerStartError) as err:
        ServerHandle(app).start(timeout=30)
    assert isinstance(err.value.__cause__, UnguardedRouteError)


def test_guard_refuses_a_websocket_under_the_api() -> None:
    app = _app()

    @app.websocket("/api/v1/ws")
    async def ws(sock: WebSocket) -> None:
        await sock.close()
    with pytest.raises(UnguardedRouteError, match="/api/v1/ws"):
        check_routes(app)


def test_guard_accepts_router_level_permission() -> None:
    app = _app()
    r = APIRouter(dependencies=[require_dep("users.read")])

    @r.get("/api/v1/ok")
    def ok() -> int:
        return 1
    app.include_router(r)
    check_routes(app)


def test_guard_ignores_routes_outside_the_api() -> None:
    app = _app()

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"
    check_routes(app)


def test_unknown_permission_is_refused_at_declaration() -> None:
    with pytest.raises(KeyError, match="no.such"):
        require("no.such")


def test_openapi_documents_every_api_route(server: Server) -> None:
    with server.client() as c:
        spec = c.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert {(r.methods[0], r.path) for r in API_ROUTES} <= documented
