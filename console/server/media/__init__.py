"""The media gateway: RTSP camera streams in (one ffmpeg each), token-checked HTTP MPEG-TS out."""

from console.server.media.gateway import (
    MediaGateway,
    StreamUnavailable,
    Subscription,
    UnknownStream,
)

__all__ = ["MediaGateway", "StreamUnavailable", "Subscription", "UnknownStream"]
