"""HTTP MPEG-TS out: GET /api/v1/media/{camera_id}/{profile}.ts?token=..."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from console.server.media import tokens
from console.server.media.gateway import (
    MediaGateway,
    StreamUnavailable,
    Subscription,
    UnknownStream,
)

NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}


class _SubscriptionResponse(StreamingResponse):
    """Closes the subscription however the response ends (even if the body never started)."""

    def __init__(self, subscription: Subscription, **kwargs: Any) -> None:
        super().__init__(subscription, **kwargs)
        self.subscription = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.subscription.close()


def media_router(
    gateway: MediaGateway, secret: bytes, *, first_data_timeout: float = 5.0
) -> APIRouter:
    if not secret:
        raise ValueError("media_router: secret must be non-empty bytes")
    router = APIRouter(tags=["media"])

    @router.get(
        "/api/v1/media/{camera_id}/{profile}.ts",
        response_class=StreamingResponse,
        responses={401: {}, 404: {}, 503: {}},
    )
    async def media_stream(
        camera_id: str, profile: str, token: str | None = Query(default=None)
    ) -> Any:
        """Live MPEG-TS of one camera stream; starts with PAT, PMT and a keyframe."""
        if not token:
            raise HTTPException(401, "media token missing")
        try:
            tokens.verify(secret, token, camera_id, profile)
        except tokens.TokenError as exc:
            raise HTTPException(401, f"media token {exc.reason}") from None
        try:
            subscription = await gateway.subscribe(
                camera_id, profile, first_data_timeout
            )
        except UnknownStream:
            raise HTTPException(404, f"unknown stream {camera_id}/{profile}") from None
        except StreamUnavailable as exc:
            raise HTTPException(
                503, f"stream unavailable: {exc}", headers={"Retry-After": "2"}
            ) from None
        return _SubscriptionResponse(
            subscription, media_type="video/mp2t", headers=NO_CACHE
        )

    return router
