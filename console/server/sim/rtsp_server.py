#!/usr/bin/python3
"""Simulated RTSP cameras: one gst-rtsp-server serving looping H.264 clips without re-encoding.

Run by the SYSTEM interpreter (/usr/bin/python3; python3-gi + gir1.2-gst-rtsp-server-1.0), never
imported by the app venv: every gi import happens inside main().

    /usr/bin/python3 rtsp_server.py --port 0 --config mounts.json
    mounts.json: {"mounts": {"/cam01/main": "/path/cam01_main.mp4", ...}}

stdout protocol (one line each, flushed):
    READY <port>                   once, when the server listens
stdin commands -> one reply line each:
    stop <camera_id>   -> OK stop <camera_id>     close that camera's sessions, refuse new ones (404)
    start <camera_id>  -> OK start <camera_id>
    sessions <mount>   -> SESSIONS <mount> <n>    RTSP sessions currently on that mount
    quit               -> BYE                     then exit
    anything wrong     -> ERR <reason>
stdin EOF -> exit (the parent died; never leave an orphan).

Looping: each mount's clip plays in its own small pipeline (filesrc ! qtdemux ! h264parse !
appsink, sync to the clock) looped with segment seeks, so running time never jumps back (a flush
seek to 0 makes timestamps jump and libVLC stalls). Access units are pushed into the live appsrc
of the mount's shared RTSP media (appsrc ! h264parse ! rtph264pay), stamped on arrival; the clip
pipeline releases them on time because its loop base is corrected per loop (see _on_event). The
clip pipeline runs only while the mount has a media, and starts at the clip's first keyframe.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("rtcc.sim.rtsp")

# Bound in main(); module import stays gi-free.
Gst: Any = None
GLib: Any = None
GstRtspServer: Any = None
_KEEP: Any = None  # GstRtspServer.RTSPFilterResult values
_REF: Any = None
_REMOVE: Any = None

_MEDIA_LAUNCH = (
    "( appsrc name=src is-live=true format=time do-timestamp=true max-bytes=4000000 "
    "caps=video/x-h264,stream-format=byte-stream,alignment=au "
    "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)
_CLIP_LAUNCH = (
    "filesrc name=file ! qtdemux ! h264parse config-interval=-1 "
    "! video/x-h264,stream-format=byte-stream,alignment=au "
    "! appsink name=sink sync=true emit-signals=true max-buffers=4"
)


class ClipLoop:
    """Plays one clip forever in real time and feeds every attached appsrc.

    self._lock guards only Python state; no GStreamer call that can wait on the streaming thread
    (state changes, seeks) is made while holding it, because _on_sample takes it."""

    def __init__(self, mount: str, path: Path) -> None:
        self.mount = mount
        self.path = path
        self._lock = threading.Lock()
        self._targets: list[Any] = []
        self._pipeline: Any = None

    def attach(self, appsrc: Any) -> None:
        with self._lock:
            self._targets.append(appsrc)
            pipeline = None
            if self._pipeline is None:
                pipeline = self._pipeline = self._build()
        if pipeline is not None:
            # Preroll and start here, in the RTSP client thread, so the media's first frames
            # are on their way before it prepares (an asynchronous start lost data to
            # concurrent clients). The watcher thread loops the clip at each SEGMENT_DONE;
            # it does not use the GLib main loop, which the RTSP server may block.
            pipeline.set_state(Gst.State.PAUSED)
            pipeline.get_state(5 * Gst.SECOND)
            self._play(pipeline)
            threading.Thread(
                target=self._watch,
                args=(pipeline,),
                name=f"clip {self.mount}",
                daemon=True,
            ).start()

    def detach(self, appsrc: Any) -> None:
        with self._lock:
            if appsrc in self._targets:
                self._targets.remove(appsrc)
            # Decide and take the pipeline in one step: a concurrent attach then builds a new one.
            pipeline = None
            if not self._targets:
                pipeline, self._pipeline = self._pipeline, None
        self._shut(pipeline)

    def stop(self) -> None:
        with self._lock:
            pipeline, self._pipeline = self._pipeline, None
        self._shut(pipeline)

    def _shut(self, pipeline: Any) -> None:
        if pipeline is not None:
            pipeline.set_state(Gst.State.NULL)
            log.info("clip loop %s stopped", self.mount)

    def _build(self) -> Any:
        pipeline = Gst.parse_launch(_CLIP_LAUNCH)
        pipeline.get_by_name("file").set_property("location", str(self.path))
        sink = pipeline.get_by_name("sink")
        sink.connect("new-sample", self._on_sample)
        self._sink_pad = sink.get_static_pad("sink")
        self._sink_pad.get_peer().add_probe(
            Gst.PadProbeType.EVENT_DOWNSTREAM, self._on_event
        )
        self._last_segment: Any = None
        self._pad_offset = 0
        return pipeline

    def _play(self, pipeline: Any) -> None:
        """Prerolled: loop the whole clip from its first keyframe."""
        ok, duration = pipeline.query_duration(Gst.Format.TIME)
        # An explicit stop at the clip's duration: left open, the segment ends at the LAST frame's
        # pts, so the next loop's first frame would get the same running time as that frame.
        self._stop_type, self._stop = (
            (Gst.SeekType.SET, duration) if ok else (Gst.SeekType.NONE, -1)
        )
        # FLUSH|SEGMENT once; then a plain SEGMENT seek on every SEGMENT_DONE keeps running time monotonic.
        self._seek(pipeline, Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT)
        pipeline.set_state(Gst.State.PLAYING)
        log.info("clip loop %s started (%s)", self.mount, self.path.name)

    def _seek(self, pipeline: Any, flags: Any) -> None:
        pipeline.seek(
            1.0,
            Gst.Format.TIME,
            flags,
            Gst.SeekType.SET,
            0,
            self._stop_type,
            self._stop,
        )

    def _watch(self, pipeline: Any) -> None:
        bus = pipeline.get_bus()
        wanted = Gst.MessageType.SEGMENT_DONE | Gst.MessageType.ERROR
        while pipeline is self._pipeline:
            msg = bus.timed_pop_filtered(100 * Gst.MSECOND, wanted)
            if msg is None or pipeline is not self._pipeline:
                continue
            if msg.type == Gst.MessageType.SEGMENT_DONE:
                self._seek(pipeline, Gst.SeekFlags.SEGMENT)
            elif msg.type == Gst.MessageType.ERROR:
                err, dbg = msg.parse_error()
                log.error("clip loop %s: %s (%s)", self.mount, err.message, dbg)

    def _on_event(self, _pad: Any, info: Any) -> Any:
        """Fix each loop's running-time base before the appsink sees the new segment.

        A non-flushing segment seek accumulates the base only up to the LAST frame's pts, so every
        loop would start one frame early (two frames, one timestamp). The shortfall is added as
        an offset on the appsink's pad, which corrects both its clock sync and the timestamps."""
        event = info.get_event()
        if event is not None and event.type == Gst.EventType.SEGMENT:
            segment = event.parse_segment()
            last = self._last_segment
            if (
                last is not None
                and segment.base > 0
                and last.stop != Gst.CLOCK_TIME_NONE
            ):
                missing = (last.stop - last.start) - (segment.base - last.base)
                if missing > 0:
                    self._pad_offset += missing
                    self._sink_pad.set_offset(self._pad_offset)
            self._last_segment = segment.copy()
        return Gst.PadProbeReturn.OK

    def _on_sample(self, sink: Any) -> Any:
        sample = sink.emit("pull-sample")
        with self._lock:
            targets = list(self._targets)
        if sample is None or not targets:
            return Gst.FlowReturn.OK
        # The appsink releases each frame at its (loop-corrected) running time, so arrival IS the
        # frame's time: appsrc (do-timestamp) stamps it with the media's own running time. (Fixed
        # offsets were tried: they went stale across the media's prepare -> play and stalled it.)
        buf = sample.get_buffer().copy()
        buf.pts = buf.dts = buf.duration = Gst.CLOCK_TIME_NONE
        for appsrc in targets:
            appsrc.emit("push-buffer", buf)
        return Gst.FlowReturn.OK


class SimCameras:
    def __init__(self, server: Any, mounts: dict[str, Path]) -> None:
        self.server = server
        self.mount_points = self.server.get_mount_points()
        self.factories: dict[str, Any] = {}
        self.loops: dict[str, ClipLoop] = {}
        for mount, path in mounts.items():
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(_MEDIA_LAUNCH)
            factory.set_shared(
                True
            )  # one pipeline per mount, whatever the number of clients
            factory.connect("media-configure", self._on_media_configure, mount)
            self.factories[mount] = factory
            self.loops[mount] = ClipLoop(mount, path)
            self.mount_points.add_factory(mount, factory)
        self.stopped: set[str] = set()

    def _on_media_configure(self, _factory: Any, media: Any, mount: str) -> None:
        appsrc = media.get_element().get_by_name("src")
        loop = self.loops[mount]
        loop.attach(appsrc)
        media.connect("unprepared", lambda _m: loop.detach(appsrc))

    def camera_mounts(self, camera_id: str) -> list[str]:
        return [m for m in self.factories if m.startswith(f"/{camera_id}/")]

    @staticmethod
    def _on_any(session: Any, mounts: list[str]) -> bool:
        return any(session.get_media(m)[0] is not None for m in mounts)

    def _sessions_on(self, mounts: list[str]) -> list[Any]:
        return self.server.get_session_pool().filter(
            lambda _pool, s, *_: _REF if self._on_any(s, mounts) else _KEEP
        )

    def stop_camera(self, camera_id: str) -> None:
        mounts = self.camera_mounts(camera_id)
        self.stopped.add(camera_id)
        for m in mounts:
            self.mount_points.remove_factory(m)  # new DESCRIBE/SETUP get 404

        def uses(client: Any) -> bool:
            return any(
                self._on_any(s, mounts)
                for s in client.session_filter(lambda _c, _s, *_: _REF)
            )

        # Closing the client's connection is what an RTSP-over-TCP reader sees as camera loss.
        self.server.client_filter(
            lambda _srv, client, *_: _REMOVE if uses(client) else _KEEP
        )
        self.server.get_session_pool().filter(
            lambda _p, s, *_: _REMOVE if self._on_any(s, mounts) else _KEEP
        )

    def start_camera(self, camera_id: str) -> None:
        self.stopped.discard(camera_id)
        for m in self.camera_mounts(camera_id):
            self.mount_points.add_factory(m, self.factories[m])

    def handle(self, cmd: str, args: list[str], line: str) -> str:
        if cmd in ("stop", "start") and len(args) == 1:
            if not self.camera_mounts(args[0]):
                return f"ERR unknown camera {args[0]}"
            (self.stop_camera if cmd == "stop" else self.start_camera)(args[0])
            return f"OK {cmd} {args[0]}"
        if cmd == "sessions" and len(args) == 1:
            if args[0] not in self.factories:
                return f"ERR unknown mount {args[0]}"
            return f"SESSIONS {args[0]} {len(self._sessions_on([args[0]]))}"
        return f"ERR bad command {line.strip()!r}"


def _load_config(path: Path) -> dict[str, Path]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"rtsp_server: cannot read config {path}: {exc}") from exc
    mounts = data.get("mounts") if isinstance(data, dict) else None
    if not isinstance(mounts, dict) or not mounts:
        raise SystemExit(f"rtsp_server: {path}: 'mounts' must be a non-empty object")
    out: dict[str, Path] = {}
    for mount, clip in mounts.items():
        if not (
            isinstance(mount, str) and mount.startswith("/") and mount.count("/") == 2
        ):
            raise SystemExit(
                f"rtsp_server: {path}: mount {mount!r} must look like /<camera_id>/<profile>"
            )
        if not isinstance(clip, str) or not Path(clip).is_file():
            raise SystemExit(
                f"rtsp_server: {path}: mounts[{mount!r}]: clip {clip!r} is not a file"
            )
        out[mount] = Path(clip)
    return out


def main(argv: list[str] | None = None) -> int:
    global Gst, GLib, GstRtspServer, _KEEP, _REF, _REMOVE
    parser = argparse.ArgumentParser(
        description="Simulated RTSP cameras (looping clips)"
    )
    parser.add_argument("--port", type=int, default=0, help="0 = choose a free port")
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    # Run as a plain file, outside the console package: the helper sits next to this script.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gst_server_common as common

    common.setup_logging()
    mounts = _load_config(args.config)

    Gst, GLib, GstRtspServer = common.load_gi()
    _KEEP, _REF, _REMOVE = (
        getattr(GstRtspServer.RTSPFilterResult, n) for n in ("KEEP", "REF", "REMOVE")
    )
    server = common.rtsp_server(GstRtspServer, args.port)
    cams = SimCameras(server, mounts)
    try:
        common.serve_stdin(GLib, common.listen(server, "rtsp_server"), cams.handle)
    finally:
        for loop in cams.loops.values():
            loop.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
