"""The reference server's FastAPI factory.

``create_app(settings, gateway)`` wires one router per resource, the media route, the
deny-by-default permission guard, and a lifespan that migrates the database, loads the
camera sources into the media gateway and starts/stops it.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from console.logsafe import mask_url
from console.server import db, db_errors
from console.server.events import EventBus
from console.server.media.gateway import MediaGateway
from console.server.media.router import media_router
from console.server.permissions import check_routes
from console.server.routers import auth as auth_routes
from console.server.routers import alerts as alert_routes
from console.server.routers import audit as audit_routes
from console.server.routers import events as event_routes
from console.server.routers import alpr_hits, alpr_hotlists, alpr_reads
from console.server.routers import cameras, layouts, stations, users
from console.server.routers import bookmarks, recordings
from console.server.routers import ptz as ptz_routes
from console.server.media.recorder import start_recorder
from console.server.settings import ServerSettings

log = logging.getLogger("rtcc.server")


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only loc/msg/type: FastAPI's default echoes the input, which may hold a source
    # URL with a password.
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def create_app(settings: ServerSettings, gateway: MediaGateway | None = None) -> FastAPI:
    """Build the app. ``gateway`` defaults to a new ``MediaGateway()``; the app starts and
    stops it in its lifespan."""
    if gateway is None:
        gateway = MediaGateway()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            check_routes(app)  # again: routes may have been added after create_app
            await run_in_threadpool(db.upgrade, settings.db_url)
            app.state.engine = db.make_engine(settings.db_url)
            for camera_id, profile, url in await run_in_threadpool(
                    cameras.load_sources, app.state.engine):
                cameras.register_source(app, camera_id, profile, url)
            await app.state.events.start(app.state.engine)
            await gateway.start()
            app.state.recorder = await start_recorder(settings, gateway, app.state.engine)
        except BaseException as exc:
            app.state.startup_error = exc
            log.exception("server startup failed")
            raise
        log.info("server ready (db %s)", mask_url(settings.db_url))
        try:
            yield
        finally:
            app.state.ptz.close()
            if app.state.recorder is not None:
                await app.state.recorder.stop()
            await gateway.stop()
            await app.state.events.stop()
            app.state.engine.dispose()
            log.info("server stopped")

    app = FastAPI(title="RTCC Console reference server", version="1",
                  lifespan=lifespan, openapi_url="/openapi.json")
    app.state.settings = settings
    app.state.gateway = gateway
    app.state.startup_error = None
    app.state.recorder = None
    app.state.ptz = ptz_routes.make_service(app)  # PTZ locks, dead-man, drivers
    app.state.events = EventBus()
    # run by ServerHandle.stop() before uvicorn's graceful shutdown: end SSE streams
    app.state.stop_hooks = [app.state.events.close_streams]
    app.add_exception_handler(RequestValidationError, _validation_error)
    db_errors.install(app)
    for module in (auth_routes, users, cameras, stations, layouts, event_routes, audit_routes,
                   alert_routes, alpr_hotlists, alpr_reads, alpr_hits, ptz_routes, bookmarks,
                   recordings):
        app.include_router(module.router)
    app.include_router(media_router(gateway, settings.media_secret))
    check_routes(app)
    return app
