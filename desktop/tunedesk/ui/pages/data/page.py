"""The Data page: pick the examples, see what core made of them, fix what is wrong, set the validation split.

Two steps, both off the GUI thread:
1. core's `load_dataset` + `inspect_dataset` without a tokenizer, in a background task: format, preview rows,
   problems with their lines, duplicates, suggestions. Pure Python and quick, so the page fills at once.
2. `tunedesk data inspect FILE --model M --json` as a subprocess (WorkerProcess): the same report with token
   counts and the histogram. It needs transformers, which the GUI process never imports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QListWidgetItem,
    QWidget,
)

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.paths import sample_dataset
from tunedesk.core.presets.preset import Preset, apply_overrides
from tunedesk.ui.app_state import AppState
from tunedesk.ui.background import BackgroundTasks
from tunedesk.ui.pages.data.preview_tabs import DataPreview
from tunedesk.ui.pages.data.quality_report import LINE_ROLE, QualityReport
from tunedesk.ui.pages.data.source_card import SourceCard
from tunedesk.ui.pages.data.split_settings import SplitSettings
from tunedesk.ui.process.worker_process import ProcessOutcome, WorkerProcess
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.widgets.next_button import add_next_button
from tunedesk.ui.widgets.page_layout import page_column, side_by_side

RAW_LINES = 2000  # the raw view shows the start of the file; problems further down are listed all the same
RAW_LINE_CHARS = 400
FILE_FILTER = "Datasets (*.jsonl *.json *.csv *.txt *.md *.parquet);;All files (*)"


def _load(path: str) -> dict[str, Any]:
    """Runs in a thread: core's reading of the file (no tokenizer) and the first lines for the raw view."""
    from tunedesk.core.data.loader import load_dataset
    from tunedesk.core.data.quality import inspect_dataset

    data = load_dataset(path)
    report = inspect_dataset(path).to_dict()
    raw: list[str] = []
    p = Path(path)
    if p.is_file() and p.suffix.lower() != ".parquet":
        with open(p, encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh):
                if i >= RAW_LINES:
                    break
                raw.append(line.rstrip("\r\n")[:RAW_LINE_CHARS])
    return {"records": [r.to_dict() for r in data.records[:500]], "report": report, "raw": raw}


def _unreadable(path: str, err: BaseException) -> TuneDeskError:
    """What the quick pass raised, as the error the page shows (core's own errors say it best)."""
    if isinstance(err, TuneDeskError):
        return err
    return TuneDeskError(f"{Path(path).name} could not be read: {err}", kind="bad_data", where={"file": path})


def _where_text(where: dict[str, Any]) -> str:
    """`{"file": "/a/b.jsonl", "line": 3, "field": "messages"}` -> "Where: file b.jsonl, line 3, field messages"."""
    loc = ", ".join(f"{k} {Path(str(v)).name if k == 'file' else v}" for k, v in (where or {}).items())
    return f"Where: {loc}" if loc else ""


def _error_text(err: dict[str, Any]) -> str:
    """A TuneDeskError as readable lines: what, where (file/line/field), what to do."""
    parts = [str(err.get("message", "Something went wrong."))]
    loc = _where_text(err.get("where") or {})
    if loc:
        parts.append(loc)
    if err.get("hint"):
        parts.append(f"What to do: {err['hint']}")
    return "\n".join(parts)


class DataPage(QWidget):
    """Choose and check the dataset; sets `state.data_path`, `state.data_stats` and the preset's split.

    Signals:
        loaded(dict): core's report without token counts (the quick pass).
        inspected(dict): the full report with token counts (the subprocess).
        failed(str): a readable message when the file cannot be used.
    """

    loaded = Signal(dict)
    inspected = Signal(dict)
    failed = Signal(str)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DataPage")
        self.setAcceptDrops(True)
        self.state = state
        self.path = ""
        self.report: dict[str, Any] = {}
        self._inspect_out: list[str] = []
        self._inspect_path = ""
        self.inspector = WorkerProcess(self)
        self.inspector.invalid_line.connect(self._inspect_out.append)  # --json output is not protocol events
        self.inspector.finished.connect(self._on_inspected)
        self.inspector.error_occurred.connect(lambda msg: self.token_note.setText(msg))
        self.reader = BackgroundTasks(self)  # the quick pass; one task per file, named by its path
        self.reader.done.connect(self._on_loaded)
        self.reader.failed.connect(self._on_load_failed)
        self._build()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        state.model_changed.connect(lambda _m: self._start_inspect())
        state.preset_changed.connect(self._show_preset)
        self._show_preset(state.preset)
        self.open_path(state.data_path or str(sample_dataset()))

    def _build(self) -> None:
        root = page_column(
            self,
            "Data",
            "The examples your model learns from: what it is asked, and how it should answer.",
            spacing=12,
        )
        self.source = SourceCard()
        self.source.open_file_button.clicked.connect(self._open_file)
        self.source.open_folder_button.clicked.connect(self._open_folder)
        self.source.sample_button.clicked.connect(self.use_sample)
        root.addWidget(self.source)
        self.error_banner = ErrorBanner()
        root.addWidget(self.error_banner)
        self.tabs = DataPreview()
        self.report_card = QualityReport()
        self.report_card.problems.currentItemChanged.connect(self._on_problem_selected)
        card = self.report_card
        card.try_prompt_button.clicked.connect(lambda: self.state.request_chat_prompt(card.try_prompt))
        root.addWidget(side_by_side(self.tabs, self.report_card, stretch=(3, 2), sizes=[700, 460]), 1)
        self.split_settings = SplitSettings()
        self.split_settings.val_share.valueChanged.connect(self._write_preset)
        self.split_settings.seed.valueChanged.connect(self._write_preset)
        foot = QHBoxLayout()  # the split settings and the way on share one row: the preview keeps the height
        foot.addWidget(self.split_settings, 1)
        self.next_button = add_next_button(foot, "Next: train", lambda: self.state.go_to("train"))
        root.addLayout(foot)
        self._name_parts()

    def _name_parts(self) -> None:
        """Short names for the parts the tests read."""
        self.format_label = self.source.format_label
        self.preview, self.table, self.raw = self.tabs.preview, self.tabs.table, self.tabs.raw
        card = self.report_card
        self.stat_values, self.histogram, self.token_note = card.stat_values, card.histogram, card.token_note
        self.problems, self.suggestions = card.problems, card.suggestions
        self.val_share, self.seed = self.split_settings.val_share, self.split_settings.seed

    # ---- loading ----------------------------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Read `path` (a file or a folder of notes): quick pass in a thread, then the token inspection."""
        self.path = str(path)
        self.source.show_path(self.path)
        self.error_banner.hide()
        self.report = {}
        self.tabs.clear_data()
        self.report_card.clear()
        self.reader.run(
            self.path, lambda p=self.path: _load(p), on_error=lambda err, p=self.path: _unreadable(p, err)
        )

    def use_sample(self) -> None:
        self.open_path(str(sample_dataset()))

    @Slot(str, object)
    def _on_load_failed(self, path: str, err: TuneDeskError) -> None:
        if path != self.path:
            return  # an older file failed after the user picked another
        text = _error_text(err.to_dict())
        self.format_label.setText("not usable")
        message, _, _rest = text.partition("\n")
        self.error_banner.show_error(message, err.hint, _where_text(err.where))
        self.state.set_data_stats(None)
        self.failed.emit(text)

    @Slot(str, object)
    def _on_loaded(self, path: str, result: dict[str, Any]) -> None:
        if path != self.path:
            return  # an older file finished after the user picked another
        self.tabs.show_data(result["records"], result["raw"])
        self._show_report(result["report"])
        self.state.set_data_path(path)
        self.loaded.emit(result["report"])
        self._start_inspect()

    def _start_inspect(self) -> None:
        if not self.path or not self.report:
            return
        if self.inspector.is_running():
            self.inspector.kill()  # its answer is for an older file or model; a fresh run follows
        self._inspect_out.clear()
        self._inspect_path = self.path
        model = self.state.model_ref or "starter"
        self.token_note.setText(f"Counting tokens with the {Path(model).name} tokenizer…")
        args = ["data", "inspect", self.path, "--model", model, "--json"]
        if self.state.preset is not None:  # the Train page's length; else the CLI cuts where advise() would
            args[-1:-1] = ["--seq-len", str(self.state.preset.seq_len)]
        self.inspector.start_cli(args)

    @Slot(object)
    def _on_inspected(self, outcome: ProcessOutcome) -> None:
        if self._inspect_path != self.path or self.inspector.is_running():
            return
        try:
            data = json.loads("\n".join(self._inspect_out))
        except ValueError:
            data = None
        if isinstance(data, dict) and "error" in data:
            self.token_note.setText("Token counts unavailable: " + _error_text(data["error"]))
            return
        if not isinstance(data, dict) or outcome.exit_code not in (0, None):
            self.token_note.setText(f"Token counts unavailable (the inspection ended: {outcome.status}).")
            return
        report = data.get("report", data)
        self._show_report(report)
        self.inspected.emit(report)

    def _show_report(self, report: dict[str, Any]) -> None:
        self.report = report
        from tunedesk.core.data.formats import format_display_name

        # Plain words from core ("Chat conversations in a JSON Lines file"), never the format's id.
        name = report.get("format_name") or format_display_name(
            report.get("data_format", "?"), report.get("file_format")
        )
        self.format_label.setText(name)
        self.report_card.show_report(report)
        self.state.set_data_stats(report)

    def shutdown(self) -> None:
        """Stop a token inspection still running (the app is closing)."""
        if self.inspector.is_running():
            self.inspector.kill()

    # ---- problems -> lines ------------------------------------------------------------------------------
    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_problem_selected(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        line = item.data(LINE_ROLE) if item is not None else None
        if line:
            self.go_to_line(int(line))

    def go_to_line(self, line: int) -> None:
        """Show source line `line`: its preview row when it was kept, else the highlighted line of the file."""
        self.tabs.go_to_line(line)

    def current_raw_line(self) -> int:
        return self.tabs.current_raw_line()

    # ---- split settings -> preset -----------------------------------------------------------------------
    @Slot(object)
    def _show_preset(self, preset: Preset | None) -> None:
        self.split_settings.show_preset(preset or Preset())

    @Slot()
    def _write_preset(self) -> None:
        changes = self.split_settings.changes()
        self.state.set_preset(apply_overrides(self.state.preset or Preset(), changes, source="Data page"))

    # ---- files ------------------------------------------------------------------------------------------
    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a dataset", "", FILE_FILTER)
        if path:
            self.open_path(path)

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of notes")
        if folder:
            self.open_path(folder)

    def dragEnterEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt's name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802, ANN001
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])
