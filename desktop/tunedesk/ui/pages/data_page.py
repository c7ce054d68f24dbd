"""The Data page: pick the examples, see what core made of them, fix what is wrong, set the validation split.

Two steps, both off the GUI thread:
1. core's `load_dataset` + `inspect_dataset` without a tokenizer, in a Python thread: format, preview rows,
   problems with their lines, duplicates, suggestions. Pure Python and quick, so the page fills at once.
2. `tunedesk data inspect FILE --model M --json` as a subprocess (WorkerProcess): the same report with token
   counts and the histogram. It needs transformers, which the GUI process never imports.
"""

from __future__ import annotations

import json
import threading
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QItemSelectionModel, Qt, Signal, Slot
from PySide6.QtGui import QColor, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.paths import sample_dataset
from tunedesk.core.presets.preset import Preset, apply_overrides
from tunedesk.ui.app_state import AppState
from tunedesk.ui.histogram import TokenHistogram
from tunedesk.ui.preview_table import PreviewTableModel
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.worker_process import ProcessOutcome, WorkerProcess

RAW_LINES = 2000  # the raw view shows the start of the file; problems further down are listed all the same
RAW_LINE_CHARS = 400
FILE_FILTER = "Datasets (*.jsonl *.json *.csv *.txt *.md *.parquet);;All files (*)"
STAT_LABELS = (
    ("total_rows", "Rows"),
    ("usable_rows", "Usable"),
    ("duplicates", "Duplicates"),
    ("long_rows", "Truncated"),
    ("total_tokens", "Total tokens"),
)


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


def _card(title: str) -> tuple[Card, QVBoxLayout]:
    card = Card(title)
    return card, card.body


def _help(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    set_role(label, "help")
    return label


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
    _loaded_in_thread = Signal(str, object)  # path, result dict or TuneDeskError; crosses threads (queued)

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
        self._loaded_in_thread.connect(self._on_loaded)

        root = QVBoxLayout(self)
        root.setContentsMargins(28, 24, 28, 20)
        root.setSpacing(12)
        title = QLabel("Data")
        set_role(title, "title")
        sub = QLabel("The examples your model learns from: what it is asked, and how it should answer.")
        set_role(sub, "subtitle")
        root.addWidget(title)
        root.addWidget(sub)
        root.addWidget(self._source_card())
        self.error_banner = ErrorBanner()
        root.addWidget(self.error_banner)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.tabs = QTabWidget()
        self.preview = PreviewTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.preview)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(
            48
        )  # two lines of text per row; the tooltip has all
        self.table.setAlternatingRowColors(True)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs.addTab(self.table, "Preview")
        self.tabs.addTab(self.raw, "File")
        split.addWidget(self.tabs)
        split.addWidget(self._report_card())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([700, 460])
        root.addWidget(split, 1)
        root.addWidget(self._split_card())

        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        state.model_changed.connect(lambda _m: self._start_inspect())
        state.preset_changed.connect(self._show_preset)
        self._show_preset(state.preset)
        self.open_path(state.data_path or str(sample_dataset()))

    # ---- cards ------------------------------------------------------------------------------------------
    def _source_card(self) -> QWidget:
        box, lay = _card("Dataset")
        row = QHBoxLayout()
        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.format_label = QLabel()
        # A badge, so the detected format reads as a finding rather than as part of the path.
        self.format_label.setStyleSheet(
            "QLabel { background: rgba(61,111,224,0.12); color: #3d6fe0; border-radius: 9px; padding: 2px 10px;"
            " font-weight: 600; }"
        )
        row.addWidget(self.file_label, 1)
        row.addWidget(self.format_label)
        for text, slot in (
            ("Open file…", self._open_file),
            ("Open folder of notes…", self._open_folder),
            ("Use sample data", self.use_sample),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        lay.addLayout(row)
        lay.addWidget(
            _help("Or drop a file here: JSONL, JSON, CSV, TXT or Parquet, or a folder of .txt/.md notes.")
        )
        return box

    def _report_card(self) -> QWidget:
        box, lay = _card("Quality report")
        grid = QGridLayout()
        self.stat_values: dict[str, QLabel] = {}
        for i, (key, text) in enumerate(STAT_LABELS):
            value = QLabel("–")
            set_role(value, "metric")
            name = QLabel(text)
            set_role(name, "metric-label")
            grid.addWidget(value, 0, i, Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(name, 1, i, Qt.AlignmentFlag.AlignHCenter)
            self.stat_values[key] = value
        lay.addLayout(grid)
        self.histogram = TokenHistogram()
        self.histogram.hide()  # shown once the tokens are counted: an empty plot only confuses
        lay.addWidget(self.histogram, 1)
        self.token_note = _help("")
        lay.addWidget(self.token_note)
        self.problems_title = QLabel("Problems: click one to see its line")
        set_role(self.problems_title, "heading")
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.setSpacing(3)
        self.problems.currentItemChanged.connect(self._on_problem_selected)
        lay.addWidget(self.problems_title)
        lay.addWidget(self.problems, 1)
        self.suggestions = QLabel("")
        self.suggestions.setWordWrap(True)
        lay.addWidget(self.suggestions)
        return box

    def _split_card(self) -> QWidget:
        from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

        box, lay = _card("Validation split")
        row = QHBoxLayout()
        help_ = Preset.field_help()
        self.val_share = QDoubleSpinBox(decimals=0, minimum=0, maximum=50, singleStep=5, suffix=" %")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        for label, widget, text in (
            ("Validation share", self.val_share, help_["val_fraction"]),
            ("Seed", self.seed, help_["seed"]),
        ):
            col = QVBoxLayout()
            line = QHBoxLayout()
            line.addWidget(QLabel(label))
            line.addWidget(widget)
            line.addStretch(1)
            col.addLayout(line)
            col.addWidget(_help(text))
            row.addLayout(col, 1)
        self.val_share.valueChanged.connect(self._write_preset)
        self.seed.valueChanged.connect(self._write_preset)
        lay.addLayout(row)
        return box

    # ---- loading ----------------------------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Read `path` (a file or a folder of notes): quick pass in a thread, then the token inspection."""
        self.path = str(path)
        self.file_label.setText(
            f"<b>{Path(path).name}</b>  <span style='color:#777'>{Path(path).parent}</span>"
        )
        self.file_label.setToolTip(self.path)
        self.format_label.setText("reading…")
        self.error_banner.hide()
        self.report = {}
        self.preview.clear()
        self.raw.clear()
        self.problems.clear()
        self.histogram.clear_data()
        self.histogram.hide()
        self.token_note.setText("")
        self.suggestions.setText("")
        threading.Thread(target=self._load_thread, args=(self.path,), daemon=True).start()

    def use_sample(self) -> None:
        self.open_path(str(sample_dataset()))

    def _load_thread(self, path: str) -> None:
        try:
            result: Any = _load(path)
        except TuneDeskError as err:
            result = err
        except Exception as err:  # noqa: BLE001 - an unreadable file must become a message, not a crash
            result = TuneDeskError(
                f"{Path(path).name} could not be read: {err}", kind="bad_data", where={"file": path}
            )
        try:
            self._loaded_in_thread.emit(path, result)
        except RuntimeError:
            pass  # the page was closed meanwhile

    @Slot(str, object)
    def _on_loaded(self, path: str, result: Any) -> None:
        if path != self.path:
            return  # an older file finished after the user picked another
        if isinstance(result, TuneDeskError):
            text = _error_text(result.to_dict())
            self.format_label.setText("not usable")
            message, _, rest = text.partition("\n")
            self.error_banner.show_error(message, result.hint, _where_text(result.where))
            self.state.set_data_stats(None)
            self.failed.emit(text)
            return
        self.preview.set_records(result["records"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnToContents(0)
        for col, name in enumerate(self.preview.columns()):
            if name == "System":  # usually one repeated line: keep it narrow
                self.table.setColumnWidth(col, 130)
            elif name not in ("Line", "Turns"):
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        width = max(1, len(result["raw"]))
        self.raw.setPlainText(
            "\n".join(f"{i:>{len(str(width))}}  {t}" for i, t in enumerate(result["raw"], 1))
        )
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
        seq_len = (self.state.preset or Preset()).seq_len  # so "Truncated" counts against the real cut-off
        args = ["data", "inspect", self.path, "--model", model, "--seq-len", str(seq_len), "--json"]
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
        fmt = report.get("data_format", "?").replace("_", " ")
        self.format_label.setText(f"{fmt} · {report.get('file_format', '?')}")
        values = dict(report)
        values["duplicates"] = sum(len(g) - 1 for g in report.get("duplicates") or [])
        if not report.get("tokens"):
            values["long_rows"] = values["total_tokens"] = None
        for key, label in self.stat_values.items():
            value = values.get(key)
            label.setText("–" if value is None else f"{value:,}")
        self.histogram.set_report_tokens(report.get("tokens"), report.get("seq_len"))
        self.histogram.setVisible(bool(report.get("tokens")))
        if report.get("tokens"):
            t = report["tokens"]
            self.token_note.setText(
                f"Tokens per example: median {t['p50']}, 95% under {t['p95']}, longest {t['max']}."
            )
        tips = report.get("suggestions") or []
        self.suggestions.setText(
            "<b>Suggestions</b><br>" + "<br>".join(f"• {escape(t)}" for t in tips) if tips else ""
        )
        self.problems.clear()
        for p in report.get("problems") or []:
            where = " · ".join(
                str(x) for x in (p.get("source"), p.get("line") and f"line {p['line']}", p.get("field")) if x
            )
            mark = "✕" if p.get("severity") == "error" else "⚠"
            item = QListWidgetItem(f"{mark}  {where or 'file'}: {p.get('message', '')}")
            item.setData(Qt.ItemDataRole.UserRole, p.get("line"))
            self.problems.addItem(item)
        count = self.problems.count()
        self.problems_title.setText(
            f"Problems ({count}): click one to see its line" if count else "✓  No problems found"
        )
        set_role(self.problems_title, "heading" if count else "good")
        self.problems.setVisible(bool(count))
        self.state.set_data_stats(report)

    def shutdown(self) -> None:
        """Stop a token inspection still running (the app is closing)."""
        if self.inspector.is_running():
            self.inspector.kill()

    # ---- problems -> lines ------------------------------------------------------------------------------
    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_problem_selected(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        line = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if line:
            self.go_to_line(int(line))

    def go_to_line(self, line: int) -> None:
        """Show source line `line`: its preview row when it was kept, else the highlighted line of the file."""
        row = self.preview.row_for_line(line)
        if row is not None:
            self.table.selectionModel().select(
                self.preview.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(self.preview.index(row, 0))
            self.tabs.setCurrentWidget(self.table)
        block = self.raw.document().findBlockByNumber(line - 1)
        if block.isValid():
            cursor = QTextCursor(block)
            self.raw.setTextCursor(cursor)
            self.raw.centerCursor()
            mark = QTextEdit.ExtraSelection()
            mark.format.setBackground(QColor("#fff1c2"))
            mark.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            mark.cursor = cursor
            self.raw.setExtraSelections([mark])
            if row is None:
                self.tabs.setCurrentWidget(self.raw)

    def current_raw_line(self) -> int:
        return self.raw.textCursor().blockNumber() + 1

    # ---- split settings -> preset -----------------------------------------------------------------------
    @Slot(object)
    def _show_preset(self, preset: Preset | None) -> None:
        preset = preset or Preset()
        for widget, value in ((self.val_share, preset.val_fraction * 100), (self.seed, preset.seed)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)

    @Slot()
    def _write_preset(self) -> None:
        changes = {"val_fraction": round(self.val_share.value() / 100, 4), "seed": self.seed.value()}
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
