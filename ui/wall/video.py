"""libVLC glue: the one ``vlc.Instance`` per process and a player that draws into a native widget.

Rules this module keeps (see DESIGN.md "Video"):
- one Instance per process, created lazily with ``VLC_ARGS``;
- a player draws into a native child window (``set_xwindow``/``set_hwnd``/``set_nsobject``)
  that the caller binds only once the widget is shown and parented;
- libVLC events arrive on libVLC's threads: the callbacks only ``ui.tasks.post`` a note to the
  GUI thread, where the Qt signals are emitted; nothing is stopped or released in a callback;
- the ctypes callbacks are referenced for the player's lifetime;
- progress for the watchdog is the media's decoded-picture counter (``decoded_video``), which
  stops while a stream stalls even though libVLC keeps re-displaying the last picture. (For
  RTP input libVLC 3.0.24 left the stats at zero; there the playback time is used instead.)
"""
from __future__ import annotations

import glob
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import vlc
from PySide6.QtCore import QObject, Signal

from console.logsafe import mask_url
from ui import tasks

log = logging.getLogger("rtcc.wall.video")

#: Measured on a 2-core box with 16 SD tiles (see the report in tests/ui/test_wall_cpu.py):
#: ``--avcodec-threads=1`` stops each of N decoders from spawning a thread per core.
VLC_ARGS: list[str] = [
    "--no-audio", "--no-xlib", "--avcodec-hw=none", "--network-caching=300",
    "--no-video-title-show", "--no-osd", "--quiet", "--no-snapshot-preview",
    "--avcodec-threads=1",
]
RTSP_UNSUPPORTED = "this libVLC has no RTSP (live555); play through the gateway"

_instance: vlc.Instance | None = None
_rtsp: bool | None = None
_live_players: set[int] = set()


_instance_lock = threading.Lock()


def vlc_instance() -> vlc.Instance:
    """The process-wide libVLC instance (``RTCC_VLC_ARGS`` adds arguments, space separated).
    Thread-safe: players open their media on worker threads."""
    global _instance
    with _instance_lock:
        if _instance is None:
            args = VLC_ARGS + os.environ.get("RTCC_VLC_ARGS", "").split()
            _instance = vlc.Instance(args)
            if _instance is None:
                raise RuntimeError(f"libVLC failed to start with arguments {args}")
            log.info("libVLC %s started: %s", vlc.libvlc_get_version().decode(), " ".join(args))
        return _instance


def release_instance() -> None:
    """Release the instance at shutdown, after every player has been released."""
    global _instance
    if _live_players:
        raise RuntimeError(f"{len(_live_players)} libVLC player(s) still alive")
    if _instance is not None:
        _instance.release()
        _instance = None


def live_player_count() -> int:
    return len(_live_players)


def _plugin_dirs() -> list[Path]:
    dirs = [Path(p) for p in (os.environ.get("VLC_PLUGIN_PATH"), getattr(vlc, "plugin_path", None)) if p]
    try:  # where the loaded libvlccore lives (Linux): <libdir>/vlc/plugins
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                if "libvlccore" in line:
                    dirs.append(Path(line.split()[-1]).parent / "vlc" / "plugins")
                    break
    except OSError:
        pass
    return [d for d in dirs if d.is_dir()]


def can_play_rtsp() -> bool:
    """Whether this libVLC has the live555 access plugin (VideoLAN's Windows/macOS builds do;
    Debian's does not)."""
    global _rtsp
    if _rtsp is None:
        vlc_instance()  # loads libvlccore so its path is known
        _rtsp = any(glob.glob(str(d / "**" / "liblive555_plugin.*"), recursive=True)
                    for d in _plugin_dirs())
        log.info("libVLC RTSP (live555) support: %s", _rtsp)
    return _rtsp


_SCHEMES = {"http", "https", "udp", "rtp", "file", "rtsp", "rtsps"}
def url_problem(url: str) -> str | None:
    """Why this libVLC cannot play ``url`` (None when it can try)."""
    if not url or not url.strip():
        return "no stream URL"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        return f"unsupported stream URL scheme {scheme or '(none)'!r}"
    if scheme in ("rtsp", "rtsps") and not can_play_rtsp():
        return RTSP_UNSUPPORTED
    if scheme != "file" and not parts.hostname:
        return "stream URL has no host"
    return None


class _Native:
    """The libVLC objects of one player. Created, driven and freed on worker threads (in order,
    via ui.tasks.run_serial); the GUI thread only reads stats under ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.player: vlc.MediaPlayer | None = None
        self.media: vlc.Media | None = None
        self.events: vlc.EventManager | None = None
        self.callbacks: dict[vlc.EventType, Callable[[vlc.Event], None]] = {}
        self.released = False

    def create(self, callbacks: dict[vlc.EventType, Callable[[vlc.Event], None]]) -> vlc.MediaPlayer:
        if self.player is None:
            player = vlc_instance().media_player_new()
            player.video_set_mouse_input(False)
            player.video_set_key_input(False)
            # keep the callables referenced: libVLC holds only raw pointers to the ctypes thunks
            self.callbacks, self.events = callbacks, player.event_manager()
            for kind, cb in callbacks.items():
                self.events.event_attach(kind, cb)
            with self.lock:
                self.player = player
        return self.player

    def drop_media(self) -> None:
        with self.lock:
            media, self.media = self.media, None
        if media is not None and self.player is not None:
            self.player.stop()
        if media is not None:
            media.release()

    def free(self, key: int) -> None:
        if self.released:
            return
        self.released = True
        self.drop_media()
        with self.lock:
            player, self.player = self.player, None
        if player is not None:
            for kind in self.callbacks:
                self.events.event_detach(kind)
            player.release()
        _live_players.discard(key)


def _attach_window(player: vlc.MediaPlayer, win_id: int | None) -> None:
    if win_id is None:
        return
    if sys.platform.startswith("linux"):
        player.set_xwindow(win_id)
    elif sys.platform == "win32":
        player.set_hwnd(win_id)
    elif sys.platform == "darwin":
        player.set_nsobject(win_id)


def _release_orphan(native: _Native, key: int) -> None:
    if key in _live_players and not native.released:
        log.warning("a libVLC player was deleted without release(); releasing it now")
        native.free(key)


class VideoPlayer(QObject):
    """One libVLC MediaPlayer drawing into a native window.

    The Qt side lives on the GUI thread; every libVLC call that can block (create, set the
    window, open, stop, release: they join threads and take locks other players hold — measured
    20-350 ms each on a busy 2-core box) runs on a worker, in order per player, so sixteen tiles
    opening at once never freeze the GUI."""

    playing = Signal()  # libVLC reached Playing (not yet a picture)
    first_picture = Signal()  # the video output exists: the first picture is decoded and shown
    ended = Signal()  # the stream ended (EndReached)
    failed = Signal(str)  # libVLC could not open or lost the stream (EncounteredError)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        tasks.manager()  # exists before libVLC's threads post to it
        self._native = _Native()
        self._key = object()  # orders this player's libVLC calls in ui.tasks.run_serial
        self._win_id: int | None = None
        self._alive = True
        self._stopped = True
        self._stats = vlc.MediaStats()
        self._generation = 0
        self._url = ""
        self._last_time = -1
        self._time_progress = 0
        _live_players.add(id(self))
        self._callbacks: dict[vlc.EventType, Callable[[vlc.Event], None]] = {
            vlc.EventType.MediaPlayerPlaying: lambda e: self._note("playing"),
            vlc.EventType.MediaPlayerEndReached: lambda e: self._note("ended"),
            vlc.EventType.MediaPlayerEncounteredError: lambda e: self._note("failed"),
            # The stats counter is refreshed only every few hundred ms; the vout event marks the
            # first picture at once (time to first frame is what an operator feels).
            vlc.EventType.MediaPlayerVout: lambda e: self._note("vout") if e.u.new_count > 0 else None,
        }
        # if the owning widget is deleted without release(), still stop and free the player
        # (the closure holds the libVLC objects, not this wrapper, which is gone by then)
        native, key = self._native, id(self)
        self._orphan_guard = lambda *_: _release_orphan(native, key)
        self.destroyed.connect(self._orphan_guard)

    # --- libVLC thread side: only post -------------------------------------------------------
    def _note(self, what: str) -> None:
        gen = self._generation
        tasks.post(lambda: self._deliver(gen, what))

    def _deliver(self, gen: int, what: str) -> None:
        if gen != self._generation or not self._alive:
            return  # a late event from a media we already left
        log.debug("player %x %s (%s)", id(self), what, mask_url(self._url))
        if what == "playing":
            self.playing.emit()
        elif what == "vout":
            self.first_picture.emit()
        elif what == "ended":
            self.ended.emit()
        elif what == "failed":
            self.failed.emit("libVLC could not open or read the stream")

    # --- GUI thread API -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._url

    def bind(self, win_id: int) -> None:
        """Draw into this native window (call after the widget is shown and parented)."""
        self._win_id = win_id

    def play(self, url: str) -> None:
        """Open ``url`` (asynchronously; events report what happens)."""
        assert self._alive, "play() after release()"
        self._generation += 1
        self._stopped = False
        self._url = url
        self._last_time, self._time_progress = -1, 0
        log.info("player %x opens %s", id(self), mask_url(url))
        native, callbacks, win_id, gen = self._native, self._callbacks, self._win_id, self._generation

        def open_() -> bool:
            player = native.create(callbacks)
            _attach_window(player, win_id)
            native.drop_media()
            media = vlc_instance().media_new(url)
            player.set_media(media)
            with native.lock:
                native.media = media
            return player.play() == 0

        def opened(ok: bool) -> None:
            if not ok and gen == self._generation:
                self.failed.emit("libVLC refused to play the URL")
        tasks.run_serial(self._key, open_, opened)

    def stop(self) -> None:
        self._generation += 1
        self._stopped = True  # the GUI sees a stopped player at once; libVLC stops on a worker
        if self._alive:
            tasks.run_serial(self._key, self._native.drop_media)

    def frames(self) -> int:
        """A counter that grows with every newly decoded picture and stands still in a stall."""
        native = self._native
        with native.lock:
            if self._stopped or native.media is None or native.player is None:
                return 0
            decoded = int(self._stats.decoded_video) if native.media.get_stats(self._stats) else 0
            t = native.player.get_time() if decoded <= 0 else 0
        if decoded > 0:
            return decoded
        if t > 0 and t != self._last_time:  # fallback where the stats stay at zero (RTP input)
            self._last_time = t
            self._time_progress += 1
        return self._time_progress

    def video_size(self) -> tuple[int, int]:
        with self._native.lock:
            player = self._native.player
            size = player.video_get_size(0) if player is not None else None
        w, h = size or (0, 0)
        return (int(w), int(h))

    def snapshot(self, path: str | os.PathLike[str]) -> bool:
        """Save the picture on screen as PNG (blocks until libVLC wrote it)."""
        with self._native.lock:
            player, media = self._native.player, self._native.media
            if player is None or media is None:
                return False
            return player.video_take_snapshot(0, os.fspath(path), 0, 0) == 0

    def release(self) -> None:
        """Stop and free the player (off the GUI thread, after its queued play/stop)."""
        if not self._alive:
            return
        self._alive = False
        self._generation += 1
        self.destroyed.disconnect(self._orphan_guard)  # released below, not by the guard
        native, key = self._native, id(self)
        tasks.run_serial(self._key, lambda: native.free(key))
