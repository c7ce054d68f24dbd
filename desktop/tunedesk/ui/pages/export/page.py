"""The Export page: turn a trained run into one GGUF file, checked, with an Ollama Modelfile beside it.

The work is the worker's (`python -m tunedesk.worker export RUN --quant Q --checkpoint C`), run through
`WorkerProcess`; it reports `stage` events (merge, convert, quantize, verify) and then `finished`. This page
only shows them: four stage rows, one progress bar, the verification results in words, and the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core import status as run_status
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.earlier import earlier_export
from tunedesk.core.export.quants import Recommendation
from tunedesk.core.launch import worker_command
from tunedesk.ui.app_state import AppState
from tunedesk.ui.background import BackgroundTasks
from tunedesk.ui.pages.export.progress_card import (
    ExportProgress,
)
from tunedesk.ui.pages.export.quant_picker import DEFAULT_QUANT, QuantPicker
from tunedesk.ui.pages.export.result_card import ExportResult
from tunedesk.ui.pages.export.run_card import RunCard
from tunedesk.ui.process.worker_process import ProcessOutcome, WorkerProcess
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.widgets.page_title import add_page_title


def _recommended_quant(run_dir: str) -> tuple[str, Recommendation]:
    """Core's recommendation for this run, its reason and the choices that do not suit the model (model
    headers only, yet seconds for a GGUF)."""
    from tunedesk.core.export import recommend_quant

    if not run_dir:
        return run_dir, Recommendation(DEFAULT_QUANT, "")
    try:
        return run_dir, recommend_quant(run_dir)
    except TuneDeskError as err:  # e.g. the run's base model was moved: still exportable by choice
        why = f"No recommendation ({err.message}); {DEFAULT_QUANT} is the safe choice."
        return run_dir, Recommendation(DEFAULT_QUANT, why)


def _scrolling(page: QWidget) -> QVBoxLayout:
    """Give `page` a frameless scroll area; returns the layout of the scrolled body."""
    scroll = QScrollArea(page)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    body = QWidget()
    scroll.setWidget(body)
    root = QVBoxLayout(body)
    root.setContentsMargins(28, 24, 28, 24)
    root.setSpacing(14)
    return root


class ExportPage(QWidget):
    """Export a run to GGUF. Sets `state.gguf_path` when the export succeeds."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ExportPage")
        self.state = state
        self.recommended = ""
        self._recommended_for: str | None = None
        self.recommender = BackgroundTasks(self)
        self.recommender.done.connect(self._on_recommendation)
        # How the export worker is started; tests put a fake worker script here (qutebrowser-style).
        self.make_command = worker_command
        self.result: dict[str, Any] = {}
        self.proc = WorkerProcess(self)
        self.proc.event.connect(self._on_event)
        self.proc.finished.connect(self._on_finished)
        self.proc.error_occurred.connect(self._show_error)
        self._build(_scrolling(self))
        self._name_parts()
        state.run_changed.connect(self._on_run_changed)
        self.refresh_runs()

    def _build(self, root: QVBoxLayout) -> None:
        add_page_title(
            root, "Export", "Turn your trained model into one GGUF file for Ollama, LM Studio or llama.cpp."
        )
        top = QHBoxLayout()
        top.setSpacing(14)
        self.run_card = RunCard()
        self.run_card.run_combo.currentIndexChanged.connect(self._on_run_picked)
        self.run_card.browse_button.clicked.connect(self._browse_run)
        self.quant_picker = QuantPicker()
        top.addWidget(self.run_card, 1)
        top.addWidget(self.quant_picker, 1)
        root.addLayout(top)
        actions = QHBoxLayout()
        self.start_button = QPushButton("Start export")
        set_role(self.start_button, "primary")
        self.start_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.proc.cancel)
        actions.addWidget(self.start_button)
        actions.addWidget(self.cancel_button)
        actions.addStretch(1)
        root.addLayout(actions)
        self.error_banner = ErrorBanner()
        root.addWidget(self.error_banner)
        bottom = QHBoxLayout()
        bottom.setSpacing(14)
        self.progress_card = ExportProgress()
        self.result_card = ExportResult()
        self.result_card.open_button.clicked.connect(self.open_folder)
        self.result_card.chat_button.clicked.connect(self._chat_with_result)
        self.result_card.copy_button.clicked.connect(self.copy_modelfile)
        bottom.addWidget(self.progress_card, 1)
        bottom.addWidget(self.result_card, 1)
        root.addLayout(bottom)
        root.addStretch(1)

    def _name_parts(self) -> None:
        """Short names for the parts the tests read."""
        self.best_radio, self.final_radio = self.run_card.best_radio, self.run_card.final_radio
        self.quant_radios = self.quant_picker.quant_radios
        self.recommend_label = self.quant_picker.recommend_label
        self.stage_rows, self.progress = self.progress_card.stage_rows, self.progress_card.progress
        self.checks = self.progress_card.checks
        self.open_button, self.chat_button, self.copy_button = self.result_card.buttons()
        self.modelfile = self.result_card.modelfile

    # ---- runs -------------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """List the runs that have something to export; the state's run first."""
        from tunedesk.core.runs import list_runs

        paths = [str(r.path) for r in list_runs() if r.has_adapter or run_status.is_success(r.status)]
        if self.state.run_dir and self.state.run_dir not in paths:
            paths.insert(0, self.state.run_dir)
        self.run_card.show_runs(paths, self.state.run_dir)
        self._update_for_run()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        # A run may have finished while another page was shown: list it when this page comes up.
        if not self.proc.is_running():
            self.refresh_runs()
        super().showEvent(event)

    @property
    def run_dir(self) -> str:
        return self.run_card.run_dir

    @Slot(str)
    def _on_run_changed(self, _run: str) -> None:
        if not self.proc.is_running():
            self.refresh_runs()

    @Slot(int)
    def _on_run_picked(self, _index: int) -> None:
        self._update_for_run()
        if self.run_dir:
            self.state.set_run_dir(self.run_dir)

    def _update_for_run(self) -> None:
        self.start_button.setEnabled(bool(self.run_dir))
        self.run_card.show_checkpoints()
        if self.run_dir == self._recommended_for:
            return  # same run as before: keep the user's choice
        self._recommended_for = run_dir = self.run_dir
        self._show_earlier_export()
        # A new run gets its own recommendation.
        self.quant_picker.clear_choice("Working out the best size for this model…" if run_dir else "")
        self.recommender.run("recommend", lambda: _recommended_quant(run_dir))

    def _show_earlier_export(self) -> None:
        """The chosen run's last finished export, replayed from its events, if its file is still there;
        otherwise a clean slate."""
        if self.proc.is_running():
            return
        events = earlier_export(self.run_dir) if self.run_dir else []
        self.result = dict(events[-1]) if events else {}
        self.progress_card.reset()
        if not events:
            self.result_card.clear()
            return
        for ev in events[:-1]:
            if ev.get("event") == "stage":
                self.progress_card.show_stage_event(ev)
        self._show_result()

    def _show_result(self) -> str:
        """The finished export in `self.result`: stages done, its checks and its file. Returns the file."""
        self.progress_card.complete()
        if isinstance(self.result.get("verification"), dict):
            self.progress_card.show_checks(self.result["verification"])
        gguf = str(self.result.get("gguf_path") or "")
        self.result_card.show_result(gguf, str(self.result.get("modelfile_path") or ""))
        return gguf

    def _chat_with_result(self) -> None:
        if self.result.get("gguf_path"):
            self.state.set_gguf_path(str(self.result["gguf_path"]))
        self.state.go_to("chat")

    @Slot(str, object)
    def _on_recommendation(self, _name: str, answer: tuple[str, Recommendation]) -> None:
        run_dir, rec = answer
        if run_dir != self.run_dir:
            return
        self.recommended = rec.quant
        self.quant_picker.show_recommendation(rec.quant, rec.reason, rec.avoid)

    def _browse_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a run folder")
        if folder:
            self.state.set_run_dir(folder)
            self.refresh_runs()

    @property
    def quant(self) -> str:
        return self.quant_picker.quant

    # ---- export -----------------------------------------------------------------------------------------
    @Slot()
    def start_export(self) -> None:
        if not self.run_dir or self.proc.is_running():
            return
        self.result = {}
        self.error_banner.hide()
        self.progress_card.reset()
        self.result_card.disable_actions()
        checkpoint = self.run_card.checkpoint
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.state.show_status(f"Exporting {Path(self.run_dir).name} as {self.quant}…")
        cmd = self.make_command("export", self.run_dir, "--quant", self.quant, "--checkpoint", checkpoint)
        self.proc.start_command(cmd)

    @Slot(dict)
    def _on_event(self, ev: dict) -> None:
        kind = ev["event"]
        if kind == "stage":
            self.progress_card.show_stage_event(ev)
        elif kind == "error":
            self._show_error(ev["message"], ev.get("hint", ""), ev.get("traceback", ""))
        elif kind == "finished":
            self.result = dict(ev)

    @Slot(object)
    def _on_finished(self, outcome: ProcessOutcome) -> None:
        self.start_button.setEnabled(bool(self.run_dir))
        self.cancel_button.setEnabled(False)
        if not outcome.was_successful():
            if self.error_banner.isHidden():
                self._show_error(
                    f"The export ended: {outcome.status}.", "See the worker's log for the reason."
                )
            self.state.show_status("Export did not finish.")
            return
        gguf = self._show_result()
        if gguf:
            self.state.set_gguf_path(gguf)
        self.state.show_status("Export finished: the GGUF file is ready.")

    @Slot(str)
    def _show_error(self, message: str, hint: str = "", details: str = "") -> None:
        self.error_banner.show_error(message, hint, details)
        self.start_button.setEnabled(bool(self.run_dir))
        self.cancel_button.setEnabled(False)

    @Slot()
    def open_folder(self) -> None:
        gguf = str(self.result.get("gguf_path") or self.state.gguf_path or "")
        if gguf:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(gguf).parent)))

    @Slot()
    def copy_modelfile(self) -> None:
        QGuiApplication.clipboard().setText(self.modelfile.toPlainText())
