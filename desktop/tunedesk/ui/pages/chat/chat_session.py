"""One chat model running in its own QThread: the Chat page's bridge to `tunedesk.core.chat.ChatEngine`.

Why a thread and not a subprocess: llama.cpp releases the GIL while it computes, so a QThread keeps the GUI
responsive, and the model stays loaded between answers (a subprocess would reload it, or need a protocol).
`llama_cpp` is imported only inside the thread, on the first question, never when the app starts.

Usage::

    session = ChatSession("/path/model.gguf", system_prompt="Be brief.", n_threads=2, parent=self)
    session.chunk.connect(pane.append_text)
    session.ask("Hello", temperature=0.7, top_p=0.9, max_tokens=128)
    session.stop()      # cancels mid-answer; answer_finished still arrives with cancelled=True
    session.close()     # at shutdown
    end_all_sessions()  # when the app quits: every chat thread ended, every model freed

Lifetime: a running QThread that Qt destroys (with its parent, or at interpreter exit) takes the whole process
down, and llama.cpp's model must be freed in the thread that made it, not by a finalizer at exit (that was a
"Fatal Python error: bool_dealloc" on File > Quit). So a session has no Qt parent: it stays in `_LIVE` until
its thread has ended, whatever happens to the pane that made it, and ending always frees the model first.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot


class _ChatWorker(QObject):
    """Lives in the chat thread; owns the ChatEngine (created lazily so loading happens off the GUI thread)."""

    loading = Signal()
    chunk = Signal(str)
    answer_finished = Signal(dict)
    failed = Signal(str, str)  # message, hint

    def __init__(self, model_path: str, n_ctx: int, n_threads: int | None, system_prompt: str) -> None:
        super().__init__()
        self._model_path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._system_prompt = system_prompt
        self.engine: Any = None
        # Set from the GUI thread by stop(); checked between chunks, so a Stop that lands while the model is
        # still loading (before the engine exists) is honoured too.
        self.cancel_requested = False

    def _ensure_engine(self) -> Any:
        if self.engine is None:
            self.loading.emit()
            from tunedesk.core.chat import ChatEngine  # imports llama_cpp: here, in the chat thread only

            self.engine = ChatEngine(
                model_path=self._model_path,
                n_ctx=self._n_ctx,
                n_threads=self._n_threads,
                system_prompt=self._system_prompt,
            )
        return self.engine

    @Slot(str, dict)
    def ask(self, message: str, params: dict) -> None:
        started = time.perf_counter()
        first: float | None = None
        pieces = 0
        try:
            engine = self._ensure_engine()
            started = time.perf_counter()  # time the answer, not the model load
            for piece in engine.stream(message, **params):
                if first is None:
                    first = time.perf_counter() - started
                pieces += 1
                self.chunk.emit(piece)
                if self.cancel_requested:
                    engine.cancel()
                    break
        except Exception as exc:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            hint = getattr(exc, "hint", "") or "Check that the file is a GGUF model and try again."
            self.failed.emit(getattr(exc, "message", None) or str(exc) or type(exc).__name__, hint)
            return
        elapsed = time.perf_counter() - started
        stats = _engine_stats(self.engine)
        # The engine's own counts are preferred; the chunk count is a stand-in when it keeps none.
        stats.setdefault("time_to_first_token", first)
        stats.setdefault("tokens", pieces)
        stats.setdefault("seconds", elapsed)
        if stats.get("tokens_per_second") is None and stats["seconds"]:
            stats["tokens_per_second"] = stats["tokens"] / stats["seconds"]
        stats["cancelled"] = bool(self.cancel_requested or stats.get("cancelled"))
        self.cancel_requested = False
        self.answer_finished.emit(stats)

    @Slot()
    def reset(self) -> None:
        if self.engine is not None:
            self.engine.reset()

    @Slot()
    def release(self) -> None:
        """Free the model in the thread that made it, before the thread ends: llama.cpp's model must not be
        torn down from another thread, nor left to a finalizer at interpreter exit. Then hand this object to
        the GUI thread, where its session deletes it: a Python-made QObject deleted in the ending chat thread
        tore down its wrapper there, under the GUI thread's feet (segmentation faults in the chat tests)."""
        engine, self.engine = self.engine, None
        llm = getattr(engine, "llm", None)
        if llm is not None and hasattr(llm, "close"):
            llm.close()
        app = QCoreApplication.instance()
        if app is not None and self.thread() is QThread.currentThread():
            self.moveToThread(app.thread())  # only the thread an object lives in may push it away


def _engine_stats(engine: Any) -> dict[str, Any]:
    """The engine's per-answer stats as a plain dict, whatever shape (dataclass, dict, None) they take."""
    for name in ("last_stats", "stats"):
        value = getattr(engine, name, None)
        if callable(value):
            value = value()
        if value is None:
            continue
        if hasattr(value, "to_dict"):
            return dict(value.to_dict())
        if isinstance(value, dict):
            return dict(value)
        if hasattr(value, "__dict__"):
            return dict(vars(value))
    return {}


CLOSE_WAIT_MS = 60_000  # the answer loop stops within a chunk; a model still loading cannot be interrupted
_LIVE: set[ChatSession] = set()  # sessions whose thread may still run; kept here, not by a Qt parent


def end_all_sessions(wait_ms: int | None = None) -> None:
    """Stop every chat thread, free its model and wait for it (for good when `wait_ms` is None): at quit."""
    for session in list(_LIVE):
        session.close(wait_ms)


class ChatSession(QObject):
    """A chat model in a background thread.

    Signals:
        loading(): the model is being loaded (first question only).
        chunk(str): the next piece of the answer.
        answer_finished(dict): stats of the answer (tokens, seconds, tokens_per_second,
            time_to_first_token, cancelled).
        failed(str, str): message and hint when loading or answering failed.
        busy_changed(bool): True while an answer is being produced.
        ended(): the thread has finished (after `retire` or `close`).
    """

    loading = Signal()
    chunk = Signal(str)
    answer_finished = Signal(dict)
    failed = Signal(str, str)
    busy_changed = Signal(bool)
    ended = Signal()
    _ask = Signal(str, dict)
    _reset = Signal()
    _release = Signal()

    def __init__(
        self,
        model_path: str,
        *,
        system_prompt: str = "",
        n_ctx: int = 2048,
        n_threads: int | None = None,
    ) -> None:
        super().__init__()  # no parent: see the module's docstring
        self.model_path = model_path
        self.system_prompt = system_prompt  # "": no system message (the chat template may add its own)
        self._busy = False
        self._ending = False
        self._thread = QThread(self)
        self._thread.setObjectName("chat-thread")
        self._worker = _ChatWorker(model_path, n_ctx, n_threads, system_prompt)
        self._worker.moveToThread(self._thread)
        # Emitted in the chat thread as it ends, so this runs there: the model is freed in the thread that made
        # it even when the queued `_release` never ran (quit() ends the event loop after the slot in progress,
        # an answer, and leaves what was queued behind it). The worker then lives in the GUI thread and goes
        # with this session.
        self._thread.finished.connect(self._worker.release, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        # Queued: the worker's slots run in the chat thread.
        self._ask.connect(self._worker.ask)
        self._reset.connect(self._worker.reset)
        self._release.connect(self._worker.release)
        self._worker.loading.connect(self.loading)
        self._worker.chunk.connect(self.chunk)
        self._worker.answer_finished.connect(self._on_answer_finished)
        self._worker.failed.connect(self._on_failed)
        _LIVE.add(self)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._busy

    def ask(self, message: str, *, temperature: float, top_p: float, max_tokens: int) -> bool:
        """Queue a question; returns False (and does nothing) while an answer is still running."""
        if self._busy or self._ending:
            return False
        self._worker.cancel_requested = False
        self._set_busy(True)
        self._ask.emit(message, {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens})
        return True

    def stop(self) -> None:
        """Cancel the answer in progress (thread-safe: a flag plus the engine's own cancel)."""
        if not self._busy:
            return
        self._worker.cancel_requested = True
        engine = self._worker.engine
        if engine is not None:
            engine.cancel()

    def reset(self) -> None:
        """Forget the conversation (keeps the model loaded)."""
        if not self._ending:
            self._reset.emit()

    def retire(self) -> None:
        """Stop any answer, free the model and let the thread end on its own; `ended` follows. Never waits."""
        self._end()

    def _end(self) -> None:
        """Ask the thread to free the model and end, once: a second call must not touch the worker again
        (it is being handed back to the GUI thread as the chat thread ends)."""
        if self._ending:
            return
        self._ending = True
        self.stop()
        self._release.emit()  # queued: runs in the chat thread, after the answer loop has seen the cancel
        self._thread.quit()

    def close(self, wait_ms: int | None = CLOSE_WAIT_MS) -> bool:
        """Stop any answer, free the model and end the thread, waiting at most `wait_ms` (None: until it ends).

        Returns whether the thread has ended. If not (a model still loading), the session stays in `_LIVE`,
        so nothing destroys its running thread; `end_all_sessions()` at quit waits for it.
        """
        self._end()
        ended = self._thread.wait() if wait_ms is None else self._thread.wait(wait_ms)
        if ended:
            _LIVE.discard(self)
        return ended

    @Slot()
    def _on_thread_finished(self) -> None:
        self.ended.emit()
        # Let go of it a moment later, not inside its own slot (the last reference may be this one).
        QTimer.singleShot(0, functools.partial(_LIVE.discard, self))

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    @Slot(dict)
    def _on_answer_finished(self, stats: dict) -> None:
        self._set_busy(False)
        self.answer_finished.emit(stats)

    @Slot(str, str)
    def _on_failed(self, message: str, hint: str) -> None:
        self._set_busy(False)
        self.failed.emit(message, hint)
