"""The Export page: turn a trained run into one GGUF file, checked, with an Ollama Modelfile beside it.

The work is the worker's (`python -m tunedesk.worker export RUN --quant Q --checkpoint C`), run through
`WorkerProcess`; it reports `stage` events (merge, convert, quantize, verify) and then `finished`. This page
only shows them: four stage rows, one progress bar, the verification results in words, and the result.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core import status as run_status
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.launch import worker_command
from tunedesk.core.runs import RunLayout
from tunedesk.ui.app_state import AppState
from tunedesk.ui.export_progress import (
    ExportProgress,
)
from tunedesk.ui.export_result import ExportResult
from tunedesk.ui.quant_picker import DEFAULT_QUANT, QuantPicker
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.widgets.help_label import help_label
from tunedesk.ui.widgets.page_title import add_page_title
from tunedesk.ui.worker_process import ProcessOutcome, WorkerProcess


def _has_weights(folder: Path) -> bool:
    """An adapter (adapter_config.json) or a full model (config.json) was saved there."""
    return (folder / "adapter_config.json").is_file() or (folder / "config.json").is_file()


def _recommended_quant(run_dir: str) -> tuple[str, str]:
    """Core's recommendation for this run and its reason (it reads model headers only: quick)."""
    from tunedesk.core.export import recommend_quant

    if not run_dir:
        return DEFAULT_QUANT, ""
    try:
        rec = recommend_quant(run_dir)
    except TuneDeskError as err:  # e.g. the run's base model was moved: still exportable by choice
        return DEFAULT_QUANT, f"No recommendation ({err.message}); {DEFAULT_QUANT} is the safe choice."
    return rec.quant, rec.reason


class ExportPage(QWidget):
    """Export a run to GGUF. Sets `state.gguf_path` when the export succeeds."""

    _recommendation = Signal(str, str, str)  # run, quant, reason: from a worker thread, queued to the GUI

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recommended = ""
        self._recommended_for: str | None = None
        self._recommendation.connect(self._on_recommendation)
        self.setObjectName("ExportPage")
        self.state = state
        # How the export worker is started; tests put a fake worker script here (qutebrowser-style).
        self.make_command = worker_command
        self.result: dict[str, Any] = {}
        self.proc = WorkerProcess(self)
        self.proc.event.connect(self._on_event)
        self.proc.finished.connect(self._on_finished)
        self.proc.error_occurred.connect(self._show_error)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        root = QVBoxLayout(body)
        root.setContentsMargins(28, 24, 28, 24)
        root.setSpacing(14)
        add_page_title(
            root, "Export", "Turn your trained model into one GGUF file for Ollama, LM Studio or llama.cpp."
        )

        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(self._run_card(), 1)
        self.quant_picker = QuantPicker()
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
        self.result_card.chat_button.clicked.connect(lambda: self.state.go_to("chat"))
        self.result_card.copy_button.clicked.connect(self.copy_modelfile)
        bottom.addWidget(self.progress_card, 1)
        bottom.addWidget(self.result_card, 1)
        root.addLayout(bottom)
        root.addStretch(1)
        # The page's own names for its cards' parts, as before the cards had modules of their own.
        self.quant_group = self.quant_picker.quant_group
        self.quant_radios = self.quant_picker.quant_radios
        self.recommend_label = self.quant_picker.recommend_label
        self.stage_rows = self.progress_card.stage_rows
        self.progress = self.progress_card.progress
        self.checks = self.progress_card.checks
        self.checks_title = self.progress_card.checks_title
        self.gguf_label = self.result_card.gguf_label
        self.open_button, self.chat_button, self.copy_button = self.result_card.buttons()
        self.modelfile = self.result_card.modelfile

        state.run_changed.connect(self._on_run_changed)
        self.refresh_runs()

    # ---- cards ------------------------------------------------------------------------------------------
    def _run_card(self) -> QWidget:
        box = Card("What to export")
        lay = box.body
        row = QHBoxLayout()
        self.run_combo = QComboBox()
        self.run_combo.currentIndexChanged.connect(self._on_run_picked)
        browse = QPushButton("Choose run folder…")
        browse.clicked.connect(self._browse_run)
        row.addWidget(self.run_combo, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        self.best_radio = QRadioButton("Best checkpoint (lowest validation loss)")
        self.final_radio = QRadioButton("Final checkpoint (the last step)")
        self.best_radio.setChecked(True)
        lay.addWidget(self.best_radio)
        lay.addWidget(self.final_radio)
        lay.addWidget(
            help_label("The best one usually answers better on new data; the final one has trained longest.")
        )
        lay.addStretch(1)
        return box

    # ---- runs -------------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """List the runs that have something to export; the state's run first."""
        from tunedesk.core.runs import list_runs

        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        paths = [str(r.path) for r in list_runs() if r.has_adapter or run_status.is_success(r.status)]
        if self.state.run_dir and self.state.run_dir not in paths:
            paths.insert(0, self.state.run_dir)
        for path in paths:
            self.run_combo.addItem(Path(path).name, path)
        if not paths:
            self.run_combo.addItem("No trained runs yet: train one first", "")
        index = max(0, self.run_combo.findData(self.state.run_dir))
        self.run_combo.setCurrentIndex(index)
        self.run_combo.blockSignals(False)
        self._update_for_run()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        # A run may have finished while another page was shown: list it when this page comes up.
        if not self.proc.is_running():
            self.refresh_runs()
        super().showEvent(event)

    @property
    def run_dir(self) -> str:
        return str(self.run_combo.currentData() or "")

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
        self._show_checkpoints()
        if self.run_dir == self._recommended_for:
            return  # same run as before: keep the user's choice
        self._recommended_for = self.run_dir
        # A new run gets its own recommendation.
        self.quant_picker.clear_choice("Working out the best size for this model…" if self.run_dir else "")
        run_dir = self.run_dir

        def work() -> None:  # model_info reads the base model's headers: seconds for a GGUF, so not here
            try:
                self._recommendation.emit(run_dir, *_recommended_quant(run_dir))
            except RuntimeError:
                pass  # the page is gone

        threading.Thread(target=work, name="export-recommend", daemon=True).start()

    def _show_checkpoints(self) -> None:
        """Offer only the checkpoints the run has (a run stopped before its first check has no best/)."""
        if not self.run_dir:
            return
        layout = RunLayout(Path(self.run_dir))
        best, final = _has_weights(layout.best), _has_weights(layout.adapter)
        only_one = best != final
        self.best_radio.setEnabled(best or not only_one)
        self.final_radio.setEnabled(final or not only_one)
        if only_one:
            (self.best_radio if best else self.final_radio).setChecked(True)

    @Slot(str, str, str)
    def _on_recommendation(self, run_dir: str, recommended: str, reason: str) -> None:
        if run_dir != self.run_dir:
            return
        self.recommended = recommended
        self.quant_picker.show_recommendation(recommended, reason)

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
        checkpoint = "best" if self.best_radio.isChecked() else "final"
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
        self.progress_card.complete()
        if isinstance(self.result.get("verification"), dict):
            self.progress_card.show_checks(self.result["verification"])
        gguf = str(self.result.get("gguf_path") or "")
        self.result_card.show_result(gguf, str(self.result.get("modelfile_path") or ""))
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
        gguf = self.state.gguf_path
        if gguf:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(gguf).parent)))

    @Slot()
    def copy_modelfile(self) -> None:
        QGuiApplication.clipboard().setText(self.modelfile.toPlainText())
