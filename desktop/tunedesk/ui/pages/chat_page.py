"""The Chat page: talk to the exported model (or any GGUF), optionally side by side with the base model.

Each pane owns one `ChatSession` (a QThread running core's ChatEngine), so in compare mode both models
answer at the same time, each streaming into its own transcript. The page keeps no chat logic: history,
trimming and stop words live in the engine; here are only widgets and the sampling values the user picks.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from tunedesk.ui.app_state import AppState
from tunedesk.ui.chat_thread import ChatSession
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card

DEFAULT_SYSTEM = "You are a helpful assistant."
HELP = {
    "temperature": "Higher gives more varied answers; lower gives focused, repeatable ones (0: always the likeliest word).",
    "top_p": "Picks only among the likeliest words that together make up this share; lower keeps answers on track.",
    "max_tokens": "Longest answer allowed, in tokens (a token is about three quarters of a word).",
    "system": "Standing instructions the model reads before every message; changing them starts a new chat.",
}


def _starter_path() -> str:
    from tunedesk.core.vendor import starter_gguf

    path = starter_gguf()
    return str(path) if path else ""


def _base_gguf_for_run(run_dir: str) -> str:
    """The GGUF of the run's base model when it has one (the starter, or a .gguf file); else the starter."""
    from tunedesk.core.errors import TuneDeskError
    from tunedesk.core.runs import load_config

    try:
        model = load_config(run_dir).model
    except TuneDeskError:
        model = ""
    if model.lower().endswith(".gguf") and Path(model).is_file():
        return model
    return _starter_path()


def _card(title: str) -> tuple[Card, QVBoxLayout]:
    card = Card(title)
    return card, card.body


def _help(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    set_role(label, "help")
    return label


def _bubble(role: str, text: str) -> str:
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
        self._retired: list[ChatSession] = []
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
            self.session = ChatSession(path, system_prompt=system_prompt, n_threads=n_threads, parent=self)
            self.session.loading.connect(lambda: self.stats.setText("Loading the model…"))
            self.session.chunk.connect(self._on_chunk)
            self.session.answer_finished.connect(self._on_finished)
            self.session.failed.connect(self._on_failed)
            self.session.busy_changed.connect(self.busy_changed)
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
        """Called when the app quits: end every chat thread, waiting briefly so none is destroyed running."""
        self._retire_session()
        for session in self._retired:
            session.close()
        self._retired.clear()

    def _retire_session(self) -> None:
        # Never wait on the GUI thread: an old session stops and ends its thread in the background.
        old, self.session = self.session, None
        if old is None:
            return
        self._retired.append(old)
        old.ended.connect(lambda s=old: self._forget(s))
        old.retire()

    def _forget(self, session: ChatSession) -> None:
        if session in self._retired:
            self._retired.remove(session)
            session.deleteLater()

    @Slot(str)
    def _on_chunk(self, piece: str) -> None:
        if self.messages and self.messages[-1][0] == "assistant":
            self.messages[-1][1] += piece
        if not self._render_pending:  # at most one redraw per 40 ms, however fast tokens arrive
            self._render_pending = True
            QTimer.singleShot(40, self._render)

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
        self.transcript.setHtml("".join(_bubble(role, text) for role, text in self.messages))
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())


class ChatPage(QWidget):
    """Streaming chat over a GGUF model.

    Signals:
        busy_changed(bool): True while any pane is answering.
    """

    busy_changed = Signal(bool)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChatPage")
        self.state = state
        self.n_threads: int | None = None  # None: the engine picks; tests set 2 to share the CPU fairly
        self.setAcceptDrops(True)

        root = QVBoxLayout(self)
        root.setContentsMargins(28, 24, 28, 20)
        root.setSpacing(14)
        title = QLabel("Chat")
        set_role(title, "title")
        subtitle = QLabel("Try your model before you share it. Everything runs on this computer.")
        set_role(subtitle, "subtitle")
        root.addWidget(title)
        root.addWidget(subtitle)

        # ---- which model(s) ----
        models_box, models = _card("")
        row = QHBoxLayout()
        row.setSpacing(10)
        self.model_label = QLabel()
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_btn = QPushButton("Open GGUF…")
        open_btn.clicked.connect(self._open_gguf)
        starter_btn = QPushButton("Use starter model")
        starter_btn.clicked.connect(lambda: self.set_model(_starter_path()))
        self.compare_box = QCheckBox("Compare with the base model")
        self.compare_box.setToolTip(
            "Send each message to the base model too and show both answers side by side."
        )
        self.compare_box.toggled.connect(self.set_compare)
        row.addWidget(self.model_label, 1)
        row.addWidget(self.compare_box)
        row.addSpacing(12)
        row.addWidget(open_btn)
        row.addWidget(starter_btn)
        models.addLayout(row)
        root.addWidget(models_box)

        # ---- transcripts | settings ----
        split = QSplitter(Qt.Orientation.Horizontal)
        panes_host = QWidget()
        panes_row = QHBoxLayout(panes_host)
        panes_row.setContentsMargins(0, 0, 0, 0)
        panes_row.setSpacing(12)
        self.base_pane = ChatPane("Base model", parent=self)
        self.tuned_pane = ChatPane("Your model", parent=self)
        panes_row.addWidget(self.base_pane)
        panes_row.addWidget(self.tuned_pane)
        self.base_pane.hide()
        for pane in (self.base_pane, self.tuned_pane):
            pane.busy_changed.connect(self._on_busy)
        split.addWidget(panes_host)
        split.addWidget(self._settings_card())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([900, 300])
        root.addWidget(split, 1)

        # ---- the message box ----
        send_row = QHBoxLayout()
        self.input = QPlainTextEdit()
        self.input.setObjectName("ChatInput")
        self.input.setPlaceholderText("Write a message…   (Ctrl+Enter sends)")
        self.input.setFixedHeight(72)
        buttons = QVBoxLayout()
        self.send_button = QPushButton("Send")
        set_role(self.send_button, "primary")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.new_button = QPushButton("New chat")
        self.new_button.clicked.connect(self.new_chat)
        for b in (self.send_button, self.stop_button, self.new_button):
            buttons.addWidget(b)
        send_row.addWidget(self.input, 1)
        send_row.addLayout(buttons)
        root.addLayout(send_row)
        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.send)

        state.gguf_changed.connect(self._on_gguf_changed)
        state.run_changed.connect(lambda _run: self._update_base())
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.set_model(state.gguf_path or _starter_path())
        self._update_base()

    def _settings_card(self) -> QWidget:
        box, lay = _card("Answer settings")
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText("e.g. You are a helpful assistant. Answer briefly.")
        # A plain default: small models answer far worse with no system prompt at all.
        self.system_prompt.setPlainText(DEFAULT_SYSTEM)
        self.system_prompt.setFixedHeight(70)
        self.temperature = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=2.0, singleStep=0.1, value=0.7)
        self.top_p = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=1.0, singleStep=0.05, value=0.9)
        self.max_tokens = QSpinBox(minimum=8, maximum=4096, singleStep=32, value=256)
        lay.addWidget(QLabel("System prompt"))
        lay.addWidget(self.system_prompt)
        lay.addWidget(_help(HELP["system"]))
        for name, label, widget in (
            ("temperature", "Temperature", self.temperature),
            ("top_p", "Top-p", self.top_p),
            ("max_tokens", "Max answer length", self.max_tokens),
        ):
            row = QHBoxLayout()
            row.addWidget(QLabel(label), 1)
            row.addWidget(widget)
            lay.addSpacing(6)
            lay.addLayout(row)
            lay.addWidget(_help(HELP[name]))
        lay.addStretch(1)
        box.setMinimumWidth(260)
        return box

    # ---- public API (also what the tests drive) --------------------------------------------------------
    @property
    def panes(self) -> list[ChatPane]:
        return [self.base_pane, self.tuned_pane] if self.compare_box.isChecked() else [self.tuned_pane]

    def set_model(self, path: str) -> None:
        self.tuned_pane.set_model(path, self._system_text(), self.n_threads)
        name = f"<b>{escape(Path(path).name)}</b>" if path else "No model chosen yet"
        self.model_label.setText(f"<span style='color:#8b8d94'>Model</span>&nbsp;&nbsp;{name}")
        self.model_label.setToolTip(path)

    def set_base_model(self, path: str) -> None:
        self.base_pane.set_model(path, self._system_text(), self.n_threads)

    @Slot(bool)
    def set_compare(self, on: bool) -> None:
        if self.compare_box.isChecked() != on:
            self.compare_box.setChecked(on)  # re-enters through toggled
            return
        self.base_pane.setVisible(on)
        self.tuned_pane.set_title("Your model" if on else "")

    @Slot()
    def send(self) -> None:
        text = self.input.toPlainText().strip()
        if not text or any(p.busy for p in self.panes):
            return
        params = {
            "temperature": self.temperature.value(),
            "top_p": self.top_p.value(),
            "max_tokens": self.max_tokens.value(),
        }
        for pane in self.panes:
            # The engine takes the system prompt when it is created: a changed one starts a new chat.
            pane.set_model(pane.model_path, self._system_text(), self.n_threads)
        sent = [pane.ask(text, **params) for pane in self.panes]
        if any(sent):
            self.input.clear()

    @Slot()
    def stop(self) -> None:
        for pane in (self.base_pane, self.tuned_pane):
            pane.stop()

    @Slot()
    def new_chat(self) -> None:
        for pane in (self.base_pane, self.tuned_pane):
            pane.reset()

    @Slot()
    def shutdown(self) -> None:
        for pane in (self.base_pane, self.tuned_pane):
            pane.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    # ---- drag and drop of a .gguf file ------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802, ANN001
        if any(u.toLocalFile().lower().endswith(".gguf") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802, ANN001
        for url in event.mimeData().urls():
            if url.toLocalFile().lower().endswith(".gguf"):
                self.set_model(url.toLocalFile())
                break

    # ---- private ----------------------------------------------------------------------------------------
    def _system_text(self) -> str:
        return self.system_prompt.toPlainText().strip() if hasattr(self, "system_prompt") else ""

    def _open_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.set_model(path)

    @Slot(str)
    def _on_gguf_changed(self, path: str) -> None:
        if path:
            self.set_model(path)

    def _update_base(self) -> None:
        self.set_base_model(_base_gguf_for_run(self.state.run_dir) if self.state.run_dir else _starter_path())

    @Slot(bool)
    def _on_busy(self, _busy: bool) -> None:
        busy = self.base_pane.busy or self.tuned_pane.busy
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.busy_changed.emit(busy)
