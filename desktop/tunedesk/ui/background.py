"""Work that must not freeze the window, run off the GUI thread, its results handed back by signal.

The pages ask core things that take a moment (a hardware probe, a model's headers, a dataset read): each such
call runs in a plain Python thread, and what it returns or raises arrives in the GUI thread through a queued
signal. One helper for all of them, so no page hand-writes its own thread, signal and error wrapping.

Usage::

    self.tasks = BackgroundTasks(self)
    self.tasks.done.connect(self._on_done)        # (name, value)
    self.tasks.failed.connect(self._on_failed)    # (name, TuneDeskError)
    self.tasks.run("probe", probe_hardware)
    self.tasks.run("list", list_models_one_by_one)  # may call tasks.post("info", value) as it goes

The chat page's model runs in a thread of its own (pages/chat/chat_session.py): llama.cpp must stay in the
thread that loaded it, across answers, and stream tokens; its results come back the same way, by signal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from tunedesk.core.errors import TuneDeskError


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

    def run(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        on_error: Callable[[BaseException], TuneDeskError] = as_user_error,
    ) -> None:
        """Call `fn()` in a new thread. `on_error` turns what it raises into the error to show."""

        def work() -> None:
            try:
                result = fn()
            except Exception as err:  # noqa: BLE001 - every failure reaches the user as a message
                self._emit(self.failed, name, on_error(err))
                return
            if result is not None:
                self._emit(self.done, name, result)

        threading.Thread(target=work, name=f"background-{name}", daemon=True).start()

    def post(self, name: str, value: Any) -> None:
        """A partial result from inside a running task (thread-safe): arrives as `done(name, value)`."""
        self._emit(self.done, name, value)

    @staticmethod
    def _emit(signal: Any, name: str, value: Any) -> None:
        try:
            signal.emit(name, value)  # queued: the receivers live in the GUI thread
        except RuntimeError:
            pass  # the page that asked was closed meanwhile; nobody is left to tell
