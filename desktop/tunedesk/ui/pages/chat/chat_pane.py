"""One model's conversation on the Chat page: a transcript of bubbles, its own chat thread and a stats line.

The pane keeps no chat logic: history, trimming and stop words live in core's ChatEngine, which its
`ChatSession` (a QThread) runs. Here are only the transcript, drawn as HTML bubbles, and the stats line.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QLabel, QTextBrowser, QVBoxLayout, QWidget

from tunedesk.ui.pages.chat.chat_session import ChatSession
from tunedesk.ui.style import set_role

RENDER_DELAY_MS = 40  # at most one redraw per 40 ms, however fast tokens arrive


def bubble_html(role: str, text: str) -> str:
    """One message as an HTML table row: the user's on the right, the model's (or an error) on the left."""
    body = escape(text).replace("\n", "<br>") or "<i>…</i>"
    if role == "user":
        return (
            '<table width="100%" cellspacing="0" cellpadding="10" style="margin:6px 0"><tr>'
            f'<td width="18%"></td><td bgcolor="#dbe7ff" style="color:#10203a">{body}</td></tr></table>'
        )
    if role == "error":
        return (
            '<table width="100%" cellspacing="0" cellpadding="10" style="margin:6px 0"><tr>'
            f'<td bgcolor="#fde8e8" style="color:#8a1c1c">{body}</td></tr></table>'
        )
    return (
        '<table width="100%" cellspacing="0" cellpadding="10" style="margin:6px 0"><tr>'
        f'<td bgcolor="#f1f3f6" style="color:#1b1f24">{body}</td><td width="18%"></td></tr></table>'
    )


class ChatPane(QFrame):
    """One model's conversation: a transcript of bubbles, its own ChatSession thread and a stats line.

    Signals:
        busy_changed(bool): True while this model is answering.
    """

    busy_changed = Signal(bool)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "card")
        self.model_path = ""
        self.messages: list[list[str]] = []  # [role, text]; role: user | assistant | error
        self.last_stats: dict = {}
        self.session: ChatSession | None = None
        self._config: tuple = ()
        self._render_pending = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        self.title = QLabel(title)
        set_role(self.title, "heading")
        self.transcript = QTextBrowser()
        self.transcript.setObjectName("transcript")
        self.transcript.setOpenExternalLinks(False)
        self.transcript.setFrameShape(QFrame.Shape.NoFrame)
        self.stats = QLabel(" ")
        set_role(self.stats, "help")
        lay.addWidget(self.title)
        lay.addWidget(self.transcript, 1)
        lay.addWidget(self.stats)
        self.set_title(title)

    @property
    def busy(self) -> bool:
        return self.session is not None and self.session.busy

    def set_title(self, title: str) -> None:
        self.title.setText(title)
        self.title.setVisible(bool(title))

    def set_model(self, path: str, system_prompt: str, n_threads: int | None) -> None:
        config = (path, system_prompt, n_threads)
        if config == self._config:
            return
        self._config = config
        self.model_path = path
        self._retire_session()
        self.messages.clear()
        self._render()
        if path:
            self.session = ChatSession(path, system_prompt=system_prompt, n_threads=n_threads)
            self.session.loading.connect(self._on_loading)
            self.session.chunk.connect(self._on_chunk)
            self.session.answer_finished.connect(self._on_finished)
            self.session.failed.connect(self._on_failed)
            self.session.busy_changed.connect(self.busy_changed)
            self.destroyed.connect(self.session.retire)  # a pane deleted without shutdown(): end it anyway
            self.stats.setText(Path(path).name)

    def ask(self, message: str, *, temperature: float, top_p: float, max_tokens: int) -> bool:
        if self.session is None:
            return False
        if not self.session.ask(message, temperature=temperature, top_p=top_p, max_tokens=max_tokens):
            return False
        self.messages += [["user", message], ["assistant", ""]]
        self.stats.setText("Thinking…")
        self._render()
        return True

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()

    def reset(self) -> None:
        if self.session is not None and not self.session.busy:
            self.session.reset()
            self.messages.clear()
            self.stats.setText(" ")
            self._render()

    def shutdown(self) -> None:
        """The page is closing or the app quits: end this pane's chat thread, its model freed first."""
        old, self.session = self.session, None
        self._config = ()
        if old is not None:
            old.close()

    def _retire_session(self) -> None:
        # Never wait on the GUI thread: an old session stops, frees its model and ends in the background (it
        # keeps itself alive until then, see chat_session.py).
        old, self.session = self.session, None
        if old is not None:
            old.retire()

    @Slot()
    def _on_loading(self) -> None:
        self.stats.setText("Loading the model…")

    @Slot(str)
    def _on_chunk(self, piece: str) -> None:
        if self.messages and self.messages[-1][0] == "assistant":
            self.messages[-1][1] += piece
        if not self._render_pending:
            self._render_pending = True
            QTimer.singleShot(RENDER_DELAY_MS, self._render)

    @Slot(dict)
    def _on_finished(self, stats: dict) -> None:
        self.last_stats = stats
        parts = []
        if stats.get("tokens_per_second"):
            parts.append(f"{stats['tokens_per_second']:.1f} tokens/s")
        if stats.get("time_to_first_token") is not None:
            parts.append(f"first token after {stats['time_to_first_token']:.2f} s")
        parts.append(f"{stats.get('tokens', 0)} tokens")
        if stats.get("cancelled"):
            parts.append("stopped")
        self.stats.setText("  ·  ".join(parts))
        self._render()

    @Slot(str, str)
    def _on_failed(self, message: str, hint: str) -> None:
        if self.messages and self.messages[-1] == ["assistant", ""]:
            self.messages.pop()
        self.messages.append(["error", f"{message}\n{hint}".strip()])
        self.stats.setText("The model could not answer.")
        self._render()

    def _render(self) -> None:
        self._render_pending = False
        self.transcript.setHtml("".join(bubble_html(role, text) for role, text in self.messages))
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())
