"""Work that must not freeze the window, run off the GUI thread, its results handed back by signal.

The pages ask core things that take a moment (a hardware probe, a model's headers, a dataset read): each such
call runs in a plain Python thread, and what it returns or raises arrives in the GUI thread through a queued
signal. One helper for all of them, so no page hand-writes its own thread, signal and error wrapping.

Usage::

    self.tasks = BackgroundTasks(self)
    self.tasks.done.connect(self._on_done)        # (name, value)
    self.tasks.failed.connect(self._on_failed)    # (name, TuneDeskError)
    self.tasks.run("probe", probe_hardware)
    post = self.tasks.poster()
    self.tasks.run("list", lambda: list_models(post))  # may call post("info", value) as it goes

The threads never touch a Qt object: they put what they have into a Python queue, and a timer of the GUI
thread hands it on. A page may be deleted while its task still runs (a test ends, a window closes); a thread
that emitted a signal on it then raced its deletion in C++, which crashed the whole process (a segmentation
fault in CI), and no `try` can catch that. With the queue, a late result simply finds nobody reading it.

The chat page's model runs in a thread of its own (pages/chat/chat_session.py): llama.cpp must stay in the
thread that loaded it, across answers, and stream tokens; its results come back the same way, by signal.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from tunedesk.core.errors import TuneDeskError

# Results wait at most this long in the queue; short against a human's notice, long against a busy loop.
POLL_MS = 20

_FINISHED = object()  # a task's thread has ended: one fewer to wait for


def as_user_error(err: BaseException) -> TuneDeskError:
    """Any failure as the one error type the GUI shows (a banner, never a dead thread or a traceback)."""
    if isinstance(err, TuneDeskError):
        return err
    return TuneDeskError(str(err) or type(err).__name__, kind="unexpected")


class BackgroundTasks(QObject):
    """Runs callables in daemon threads; their results come back to the GUI thread by signal.

    Signals:
        done(str, object): a task's name and what it returned (not emitted for None), or a value it posted.
        failed(str, object): a task's name and its failure as a TuneDeskError.
    """

    done = Signal(str, object)
    failed = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._inbox: queue.SimpleQueue[tuple[Any, str, Any]] = queue.SimpleQueue()
        self._running = 0  # threads started and not yet finished; only the GUI thread counts
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._deliver)

    @property
    def busy(self) -> bool:
        """True while a task runs or its results wait to be delivered."""
        return self._running > 0 or not self._inbox.empty()

    def run(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        on_error: Callable[[BaseException], TuneDeskError] = as_user_error,
    ) -> None:
        """Call `fn()` in a new thread. `on_error` turns what it raises into the error to show."""
        inbox = self._inbox  # the thread holds the queue, never the QObject

        def work() -> None:
            try:
                result = fn()
            except Exception as err:  # noqa: BLE001 - every failure reaches the user as a message
                inbox.put(("failed", name, on_error(err)))
            else:
                if result is not None:
                    inbox.put(("done", name, result))
            finally:
                inbox.put((_FINISHED, name, None))

        self._running += 1
        self._timer.start()
        threading.Thread(target=work, name=f"background-{name}", daemon=True).start()

    def poster(self) -> Callable[[str, Any], None]:
        """A function for a running task to hand on partial results (thread-safe): `post(name, value)` arrives
        as `done(name, value)`. It reaches the queue without touching this QObject."""
        inbox = self._inbox
        return lambda name, value: inbox.put(("done", name, value))

    def _deliver(self) -> None:
        while True:
            try:
                kind, name, value = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind is _FINISHED:
                self._running -= 1
            elif kind == "failed":
                self.failed.emit(name, value)
            else:
                self.done.emit(name, value)
        if self._running <= 0:
            self._timer.stop()
