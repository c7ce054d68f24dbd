"""The Chat page: talk to the exported model (or any GGUF), optionally side by side with the base model.

Each pane owns one `ChatSession` (a QThread running core's ChatEngine), so in compare mode both models
answer at the same time, each streaming into its own transcript. The page keeps no chat logic: history,
trimming and stop words live in the engine; here are only widgets and the sampling values the user picks.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QScrollArea,
    QWidget,
)

from tunedesk.core.chat.companion import read_companion
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.runs import load_config
from tunedesk.core.training.feedback_run import create_feedback_run, feedback_readiness
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.chat.answer_settings import DEFAULT_SYSTEM, AnswerSettings
from tunedesk.ui.pages.chat.chat_pane import ChatPane
from tunedesk.ui.pages.chat.chat_session import CLOSE_WAIT_MS, end_all_sessions
from tunedesk.ui.pages.chat.feedback_training import FeedbackTraining
from tunedesk.ui.pages.chat.message_box import MessageBox
from tunedesk.ui.pages.chat.model_bar import ModelBar
from tunedesk.ui.pages.chat.prompt_trial import try_system_prompt
from tunedesk.ui.widgets.page_layout import page_column, side_by_side


def _starter_path() -> str:
    from tunedesk.core.vendor import starter_gguf

    path = starter_gguf()
    return str(path) if path else ""


def _side_title(role: str, path: str) -> str:
    """'Your model · q8_0' / 'Base model · q4_1': each side says what it is and at which quantization."""
    from tunedesk.core.errors import TuneDeskError
    from tunedesk.core.models.info import model_info
    from tunedesk.core.models.source import resolve_model

    try:
        quant = model_info(resolve_model(path)).dtype if path else ""
    except TuneDeskError:
        quant = ""
    return f"{role} · {quant}" if quant else role


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
        self._build()
        state.gguf_changed.connect(self._on_gguf_changed)
        state.run_changed.connect(lambda _run: self._update_base())
        state.training_changed.connect(lambda _on: self._update_feedback_training())
        state.chat_prompt_requested.connect(lambda prompt: try_system_prompt(self, state.model_ref, prompt))
        self.tuned_pane.feedback.saved.connect(lambda _pairs: self._update_feedback_training())
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.set_model(state.gguf_path or _starter_path())
        self._update_base()

    def _build(self) -> None:
        root = page_column(
            self, "Chat", "Try your model before you share it. Everything runs on this computer."
        )
        self.model_bar = ModelBar()
        self.model_bar.open_button.clicked.connect(self._open_gguf)
        self.model_bar.starter_button.clicked.connect(lambda: self.set_model(_starter_path()))
        self.model_bar.compare_box.toggled.connect(self.set_compare)
        root.addWidget(self.model_bar)
        self.answer_settings = AnswerSettings()
        # Scrolls on its own on a short screen, instead of squeezing its explanations into each other.
        settings = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        settings.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        settings.setWidget(self.answer_settings)
        settings.setMinimumWidth(self.answer_settings.minimumWidth() + 16)
        root.addWidget(side_by_side(self._panes(), settings, stretch=(3, 1), sizes=[900, 300]), 1)
        self.message_box = MessageBox()
        self.message_box.send_requested.connect(self.send)
        self.message_box.stop_button.clicked.connect(self.stop)
        self.message_box.new_button.clicked.connect(self.new_chat)
        root.addWidget(self.message_box)
        self.feedback_training = FeedbackTraining()
        self.feedback_training.button.clicked.connect(self.train_on_feedback)
        root.addWidget(self.feedback_training)
        # Short names for the parts the tests drive.
        self.model_label, self.compare_box = self.model_bar.model_label, self.model_bar.compare_box
        self.temperature, self.max_tokens = self.answer_settings.temperature, self.answer_settings.max_tokens
        self.input, self.send_button = self.message_box.input, self.message_box.send_button
        self.stop_button = self.message_box.stop_button

    def _panes(self) -> QWidget:
        """The two transcripts side by side; the base model's shows only in compare mode."""
        host = QWidget()
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        self.base_pane = ChatPane("Base model", parent=self)
        self.tuned_pane = ChatPane("Your model", parent=self)
        row.addWidget(self.base_pane)
        row.addWidget(self.tuned_pane)
        self.base_pane.hide()
        for pane in (self.base_pane, self.tuned_pane):
            pane.busy_changed.connect(self._on_busy)
        return host

    # ---- public API (also what the tests drive) --------------------------------------------------------
    @property
    def panes(self) -> list[ChatPane]:
        return [self.base_pane, self.tuned_pane] if self.compare_box.isChecked() else [self.tuned_pane]

    def set_model(self, path: str) -> None:
        companion = read_companion(path) if path else None
        # The prompt the model was trained with, none when its data had none (an export says so beside the
        # file); a generic one only for a GGUF that does not say.
        trained_without = companion is not None and not companion.system_prompt
        default = DEFAULT_SYSTEM if companion is None else (companion.system_prompt or "")
        self.answer_settings.switch_model(path, default, trained_without=trained_without)
        self.tuned_pane.set_model(path, self._system_text(), self.n_threads)
        self.tuned_pane.set_title(_side_title("Your model", path))
        self.model_bar.show_model(path)
        self._update_feedback_training()
        if companion is not None and companion.base_gguf and Path(companion.base_gguf).is_file():
            self.set_base_model(companion.base_gguf)  # the base at the same quantization: like with like

    def set_base_model(self, path: str) -> None:
        self.base_pane.set_model(path, self._system_text(), self.n_threads)
        self.base_pane.set_title(_side_title("Base model", path))

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
    def train_on_feedback(self) -> bool:
        """A DPO run on the chatted model's feedback, on top of its run's adapter (core: feedback_run.py).

        The Train page starts it the way it continues a run (a run with no checkpoint starts at step 0), so
        there is one launcher, and shows it live. False (and the reason below the button) if it cannot start.
        """
        ready = feedback_readiness(self.tuned_pane.model_path)
        if not ready.ready or ready.run_dir is None or ready.pairs_file is None or self.state.training:
            self._update_feedback_training()
            return False
        try:
            layout = create_feedback_run(ready.run_dir, ready.pairs_file, checkpoint=ready.checkpoint)
            model = load_config(layout.root).model
        except TuneDeskError as err:
            self.feedback_training.show_state(True, f"{err.message} {err.hint}".strip())
            return False
        except OSError as err:
            self.feedback_training.show_state(True, f"Could not create the run folder: {err}")
            return False
        self.state.set_model_ref(model)  # the Train page shows what the run trains: this model, these pairs
        self.state.set_data_path(str(ready.pairs_file))
        self.state.request_resume(str(layout.root))  # starts it and switches to the Train page
        return True

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
        """End both panes' chat threads, then any retired one still ending (a model is never left to exit)."""
        for pane in (self.base_pane, self.tuned_pane):
            pane.shutdown()
        end_all_sessions(CLOSE_WAIT_MS)

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
        companion = read_companion(self.tuned_pane.model_path) if self.tuned_pane.model_path else None
        if companion is not None and companion.base_gguf and Path(companion.base_gguf).is_file():
            self.set_base_model(companion.base_gguf)
            return
        self.set_base_model(_base_gguf_for_run(self.state.run_dir) if self.state.run_dir else _starter_path())

    def _update_feedback_training(self) -> None:
        ready = feedback_readiness(self.tuned_pane.model_path)
        if ready.ready and self.state.training:
            line = "A run is training: train on your feedback when it has ended."
        elif ready.ready and ready.run_dir is not None:
            line = f"{ready.pairs} preference pairs: a DPO run on top of {ready.run_dir.name}."
        else:
            line = ready.reason
        self.feedback_training.show_state(ready.ready and not self.state.training, line)

    @Slot(bool)
    def _on_busy(self, _busy: bool) -> None:
        busy = self.base_pane.busy or self.tuned_pane.busy
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.busy_changed.emit(busy)
