"""THE one bridge from worker threads (and libVLC's threads) to the GUI thread.

``run(fn, on_done, on_error)`` runs a blocking callable in a small thread pool and delivers its
result or exception on the GUI thread; ``post(fn)`` calls ``fn`` on the GUI thread from any
thread. Worker code never touches widgets: only the callbacks, which run on the GUI thread, do.
If ``owner`` (a QObject) has been deleted by the time a result arrives, the callbacks are skipped.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

log = logging.getLogger("rtcc.tasks")

THREAD_PREFIX = "rtcc-task"


class TaskManager(QObject):
    _wake = Signal()

    def __init__(self, max_workers: int = 4) -> None:
        super().__init__()
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("ui.tasks needs a QApplication")
        self.moveToThread(app.thread())
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._pending: set[Future[Any]] = set()
        self._chains: dict[object, Future[Any]] = {}
        self._lock = threading.Lock()
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix=THREAD_PREFIX)
        return self._pool

    def post(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` on the GUI thread soon (always deferred, also from the GUI thread)."""
        self._inbox.put(fn)
        self._wake.emit()

    @Slot()
    def _drain(self) -> None:
        while True:
            try:
                fn = self._inbox.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            except Exception:
                log.exception("error in a GUI-thread callback")

    def run[T](self, fn: Callable[[], T], on_done: Callable[[T], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None, *,
            owner: QObject | None = None) -> Future[T]:
        future = self._executor().submit(fn)
        with self._lock:
            self._pending.add(future)

        def deliver() -> None:
            with self._lock:
                self._pending.discard(future)
            if owner is not None and not shiboken6.isValid(owner):
                return
            exc = future.exception()
            if exc is None:
                if on_done is not None:
                    on_done(future.result())
            elif on_error is not None:
                on_error(exc)
            else:
                log.error("background task failed", exc_info=exc)

        future.add_done_callback(lambda _f: self.post(deliver))
        return future

    def run_serial(self, key: object, fn: Callable[[], T],
                   on_done: Callable[[T], None] | None = None,
                   on_error: Callable[[BaseException], None] | None = None, *,
                   owner: QObject | None = None) -> Future[T]:
        """Like ``run``, but calls that share ``key`` run one after another, in the order they
        were submitted (a libVLC player's play/stop/release must not overtake each other).
        No deadlock: the pool is FIFO, so a call's predecessor was dequeued before it."""
        with self._lock:
            prev = self._chains.get(key)

        def chained() -> T:
            if prev is not None:
                try:
                    prev.result()
                except BaseException:  # the predecessor's failure was delivered to its own callbacks
                    pass
            return fn()

        future = self.run(chained, on_done, on_error, owner=owner)
        with self._lock:
            self._chains[key] = future

        def forget(f: Future[Any]) -> None:
            with self._lock:
                if self._chains.get(key) is f:
                    del self._chains[key]
        future.add_done_callback(forget)
        return future

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def shutdown(self, wait: bool = True) -> None:
        """Finish queued work (results still arrive if the event loop runs) and join the pool."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=not wait)


_manager: TaskManager | None = None
_manager_lock = threading.Lock()


def manager() -> TaskManager:
    """The process-wide manager. Create it on the GUI thread first (ui/app.py does, and so
    does every VideoPlayer) so that libVLC's threads only ever find it."""
    global _manager
    with _manager_lock:
        if _manager is None or not shiboken6.isValid(_manager):
            _manager = TaskManager()
        return _manager


def run[T](fn: Callable[[], T], on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None, *,
        owner: QObject | None = None) -> Future[T]:
    return manager().run(fn, on_done, on_error, owner=owner)


def run_serial[T](key: object, fn: Callable[[], T], on_done: Callable[[T], None] | None = None,
                  on_error: Callable[[BaseException], None] | None = None, *,
                  owner: QObject | None = None) -> Future[T]:
    return manager().run_serial(key, fn, on_done, on_error, owner=owner)


def post(fn: Callable[[], None]) -> None:
    manager().post(fn)


def shutdown(wait: bool = True) -> None:
    if _manager is not None and shiboken6.isValid(_manager):
        _manager.shutdown(wait)
