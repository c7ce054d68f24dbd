"""The Export page: turn a trained run into one GGUF file, checked, with an Ollama Modelfile beside it.

The work is the worker's (`python -m tunedesk.worker export RUN --quant Q --checkpoint C`), run through
`WorkerProcess`; it reports `stage` events (merge, convert, quantize, verify) and then `finished`. This page
only shows them: four stage rows, one progress bar, the verification results in words, and the result.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core import status as run_status
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.quants import QUANTS
from tunedesk.core.launch import worker_command
from tunedesk.core.runs import RunLayout
from tunedesk.ui.app_state import AppState
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.worker_process import ProcessOutcome, WorkerProcess

# The choices in the order offered, their plain lines on core's Quant; the recommended one from recommend_quant.
QUANT_CHOICES = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "f16")
STAGES = (
    ("merge", "Merge the adapter into the model"),
    ("convert", "Convert to GGUF"),
    ("quantize", "Quantize"),
    ("verify", "Check the file"),
)
ICONS = {"waiting": "○", "running": "◐", "done": "✓", "failed": "✕"}

# Verification keys in plain words; unknown keys are shown with their own name, so nothing is hidden.
CHECK_LABELS = {
    "passed": "Passed every check",
    "chat_template": "Chat template embedded in the file",
    "end_of_turn_token": "End-of-turn token",
    "stops_at_end_of_turn": "Stops at the end of its turn",
    "stop_rate": "Answers that stopped at the end of their turn",
    "stop_rate_merged": "… the same for the merged model",
    "agreement": "Answers identical to the merged model's",
    "token_agreement": "Words shared with the merged model's answers",
    "tokenizer_match": "Tokenizer agrees with the merged model",
    "perplexity_merged": "Perplexity of the merged model (lower is better)",
    "perplexity_gguf": "Perplexity of the GGUF file (lower is better)",
    "prompts": "Held-out prompts checked",
}
PERCENT_KEYS = {"stop_rate", "stop_rate_merged", "agreement", "token_agreement", "tokenizer_match"}


def _card(title: str) -> tuple[Card, QVBoxLayout]:
    card = Card(title)
    return card, card.body


def _help(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    set_role(label, "help")
    return label


def describe_check(key: str, value: Any) -> tuple[str, str]:
    """One verification result as (label, readable value)."""
    label = CHECK_LABELS.get(key, key.replace("_", " ").capitalize())
    if value is None:
        return label, "not measured"
    if isinstance(value, bool):
        return label, "Yes  ✓" if value else "No  ✕"
    if key in PERCENT_KEYS and isinstance(value, (int, float)):
        return label, f"{value:.0%}"
    if isinstance(value, float):
        return label, f"{value:.2f}"
    if isinstance(value, dict):
        return label, ", ".join(f"{k}: {describe_check(k, v)[1]}" for k, v in value.items())
    return label, str(value)


def _has_weights(folder: Path) -> bool:
    """An adapter (adapter_config.json) or a full model (config.json) was saved there."""
    return (folder / "adapter_config.json").is_file() or (folder / "config.json").is_file()


def _recommended_quant(run_dir: str) -> tuple[str, str]:
    """Core's recommendation for this run and its reason (it reads model headers only: quick)."""
    from tunedesk.core.export import recommend_quant

    if not run_dir:
        return "q8_0", ""
    try:
        rec = recommend_quant(run_dir)
    except TuneDeskError as err:  # e.g. the run's base model was moved: still exportable by choice
        return "q8_0", f"No recommendation ({err.message}); q8_0 is the safe choice."
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
        title = QLabel("Export")
        set_role(title, "title")
        sub = QLabel("Turn your trained model into one GGUF file for Ollama, LM Studio or llama.cpp.")
        set_role(sub, "subtitle")
        root.addWidget(title)
        root.addWidget(sub)

        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(self._run_card(), 1)
        top.addWidget(self._quant_card(), 1)
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
        bottom.addWidget(self._progress_card(), 1)
        bottom.addWidget(self._result_card(), 1)
        root.addLayout(bottom)
        root.addStretch(1)

        state.run_changed.connect(self._on_run_changed)
        self.refresh_runs()

    # ---- cards ------------------------------------------------------------------------------------------
    def _run_card(self) -> QWidget:
        box, lay = _card("What to export")
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
            _help("The best one usually answers better on new data; the final one has trained longest.")
        )
        lay.addStretch(1)
        return box

    def _quant_card(self) -> QWidget:
        box, lay = _card("Size and quality")
        self.quant_group = QButtonGroup(self)
        self.quant_radios: dict[str, QRadioButton] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        for i, name in enumerate(QUANT_CHOICES):
            line = QUANTS[name].help
            radio = QRadioButton(name)
            self.quant_group.addButton(radio)
            self.quant_radios[name] = radio
            grid.addWidget(radio, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(_help(line), i, 1)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        self.recommend_label = _help("")
        lay.addWidget(self.recommend_label)
        return box

    def _progress_card(self) -> QWidget:
        box, lay = _card("Progress")
        self.stage_rows: dict[str, tuple[QLabel, QLabel]] = {}
        grid = QGridLayout()
        grid.setVerticalSpacing(6)
        for i, (stage, text) in enumerate(STAGES):
            icon, label = QLabel(ICONS["waiting"]), QLabel(text)
            icon.setObjectName("stageIcon")
            icon.setFixedWidth(22)
            label.setWordWrap(True)
            grid.addWidget(icon, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, i, 1)
            self.stage_rows[stage] = (icon, label)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        lay.addWidget(self.progress)
        self.checks_title = QLabel("Checks")
        set_role(self.checks_title, "heading")
        self.checks = QGridLayout()
        self.checks.setColumnStretch(0, 1)
        lay.addWidget(self.checks_title)
        lay.addLayout(self.checks)
        self.checks_title.hide()
        lay.addStretch(1)
        return box

    def _result_card(self) -> QWidget:
        box, lay = _card("Use it")
        self.gguf_label = QLabel("Nothing exported yet.")
        self.gguf_label.setWordWrap(True)
        self.gguf_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.gguf_label)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open folder")
        self.open_button.clicked.connect(self.open_folder)
        self.chat_button = QPushButton("Chat with it")
        self.chat_button.clicked.connect(lambda: self.state.go_to("chat"))
        self.copy_button = QPushButton("Copy Modelfile")
        self.copy_button.clicked.connect(self.copy_modelfile)
        for b in (self.open_button, self.chat_button, self.copy_button):
            b.setEnabled(False)
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addWidget(
            _help(
                "Ollama Modelfile: save it next to the GGUF file, then run `ollama create NAME -f Modelfile`."
            )
        )
        self.modelfile = QPlainTextEdit()
        self.modelfile.setReadOnly(True)
        self.modelfile.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # a file to copy, not prose
        self.modelfile.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.modelfile.setMinimumHeight(140)
        lay.addWidget(self.modelfile, 1)
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
        checked = self.quant_group.checkedButton()
        if checked is not None:  # a new run gets its own recommendation
            self.quant_group.setExclusive(False)
            checked.setChecked(False)
            self.quant_group.setExclusive(True)
        self.recommend_label.setText("Working out the best size for this model…" if self.run_dir else "")
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
        for name, radio in self.quant_radios.items():
            radio.setText(f"{name}  (recommended)" if name == recommended else name)
        if recommended in self.quant_radios and not self.quant_group.checkedButton():
            self.quant_radios[recommended].setChecked(True)  # never overrides a choice the user made
        self.recommend_label.setText(f"Recommended: {recommended}. {reason}".strip())

    def _browse_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a run folder")
        if folder:
            self.state.set_run_dir(folder)
            self.refresh_runs()

    @property
    def quant(self) -> str:
        return next((n for n, r in self.quant_radios.items() if r.isChecked()), "q8_0")

    # ---- export -----------------------------------------------------------------------------------------
    @Slot()
    def start_export(self) -> None:
        if not self.run_dir or self.proc.is_running():
            return
        self.result = {}
        self.error_banner.hide()
        self._clear_checks()
        for stage, _text in STAGES:
            self._set_stage(stage, "waiting", "")
        self.progress.setValue(0)
        for b in (self.open_button, self.chat_button, self.copy_button):
            b.setEnabled(False)
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
            self._set_stage(ev["stage"], ev["status"], ev.get("message", ""))
            self._update_progress(ev["stage"], ev["status"], ev.get("fraction"))
            detail = ev.get("detail")
            if ev["stage"] == "verify" and isinstance(detail, dict):
                self._show_checks(detail)
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
        self.progress.setValue(self.progress.maximum())
        if isinstance(self.result.get("verification"), dict):
            self._show_checks(self.result["verification"])
        gguf = str(self.result.get("gguf_path") or "")
        modelfile = self.result.get("modelfile_path")
        text = ""
        if modelfile and Path(str(modelfile)).is_file():
            text = Path(str(modelfile)).read_text(encoding="utf-8", errors="replace")
        self.modelfile.setPlainText(text)
        self.gguf_label.setText(f"<b>{Path(gguf).name}</b><br>{Path(gguf).parent}" if gguf else "Done.")
        self.open_button.setEnabled(bool(gguf))
        self.chat_button.setEnabled(bool(gguf))
        self.copy_button.setEnabled(bool(text))
        if gguf:
            self.state.set_gguf_path(gguf)
        self.state.show_status("Export finished: the GGUF file is ready.")

    def _set_stage(self, stage: str, status: str, message: str) -> None:
        if stage not in self.stage_rows:
            return
        icon, label = self.stage_rows[stage]
        icon.setText(ICONS.get(status, "○"))
        set_role(icon, {"done": "good", "failed": "bad"}.get(status, "heading"))
        text = dict(STAGES)[stage]
        label.setText(f"<b>{text}</b><br><span>{message}</span>" if message else text)

    def _update_progress(self, stage: str, status: str, fraction: float | None) -> None:
        names = [s for s, _ in STAGES]
        if stage not in names:
            return
        done = names.index(stage) + (1.0 if status == "done" else float(fraction or 0.0))
        self.progress.setValue(max(self.progress.value(), int(1000 * done / len(names))))

    def _clear_checks(self) -> None:
        while self.checks.count():
            item = self.checks.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.checks_title.hide()

    def _show_checks(self, detail: dict) -> None:
        self._clear_checks()
        order = list(CHECK_LABELS)  # the most telling checks first, whatever order the event carried
        items = sorted(detail.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        for i, (key, value) in enumerate(items):
            label, shown = describe_check(key, value)
            value_label = QLabel(shown)
            value_label.setObjectName("checkValue")
            self.checks.addWidget(QLabel(label), i, 0)
            self.checks.addWidget(value_label, i, 1, Qt.AlignmentFlag.AlignRight)
        self.checks_title.show()

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
