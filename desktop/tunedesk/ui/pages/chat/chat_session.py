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
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot


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

    def __init__(
        self,
        model_path: str,
        *,
        system_prompt: str = "",
        n_ctx: int = 2048,
        n_threads: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model_path = model_path
        self._busy = False
        self._thread = QThread(self)
        self._thread.setObjectName("chat-thread")
        self._worker = _ChatWorker(model_path, n_ctx, n_threads, system_prompt)
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.finished.connect(self.ended)
        # Queued: the worker's slots run in the chat thread.
        self._ask.connect(self._worker.ask)
        self._reset.connect(self._worker.reset)
        self._worker.loading.connect(self.loading)
        self._worker.chunk.connect(self.chunk)
        self._worker.answer_finished.connect(self._on_answer_finished)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._busy

    def ask(self, message: str, *, temperature: float, top_p: float, max_tokens: int) -> bool:
        """Queue a question; returns False (and does nothing) while an answer is still running."""
        if self._busy:
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
        self._reset.emit()

    def retire(self) -> None:
        """Stop any answer and let the thread end on its own; `ended` follows. Never waits."""
        self.stop()
        self._thread.quit()

    def close(self, wait_ms: int = 3000) -> None:
        """Stop any answer and end the thread; waits at most `wait_ms` (the answer loop checks cancel per chunk)."""
        self.stop()
        self._thread.quit()
        self._thread.wait(wait_ms)

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
