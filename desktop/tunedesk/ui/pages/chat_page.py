"""The Chat page: talk to the exported model (or any GGUF), optionally side by side with the base model.

Each pane owns one `ChatSession` (a QThread running core's ChatEngine), so in compare mode both models
answer at the same time, each streaming into its own transcript. The page keeps no chat logic: history,
trimming and stop words live in the engine; here are only widgets and the sampling values the user picks.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from tunedesk.ui.app_state import AppState
from tunedesk.ui.chat_pane import ChatPane
from tunedesk.ui.chat_settings import AnswerSettings
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.page_title import add_page_title


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
        add_page_title(root, "Chat", "Try your model before you share it. Everything runs on this computer.")

        # ---- which model(s) ----
        models_box = Card()
        models = models_box.body
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
        self.answer_settings = AnswerSettings()
        # The page's own names for the settings, as before they had a widget of their own.
        self.system_prompt = self.answer_settings.system_prompt
        self.temperature = self.answer_settings.temperature
        self.top_p = self.answer_settings.top_p
        self.max_tokens = self.answer_settings.max_tokens
        split.addWidget(self.answer_settings)
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
        params = self.answer_settings.params()
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
        return self.answer_settings.system_text() if hasattr(self, "answer_settings") else ""

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
