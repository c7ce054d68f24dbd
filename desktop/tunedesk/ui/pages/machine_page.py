"""The Machine & model page: what this computer can train on, and which base model to start from.

Both facts come from core, off the GUI thread: `probe_hardware()` (itself a cached subprocess: the GUI never
imports torch) and `list_local_models()` / `resolve_model()` / `model_info()` (file headers only, no
weights). Python threads hand the results back through a queued signal; the page only lays them out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core.errors import TuneDeskError
from tunedesk.ui.app_state import AppState
from tunedesk.ui.hardware_card import HardwareCard
from tunedesk.ui.model_list import DETAIL_NAMES, ModelList, model_details
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.widgets.help_label import help_label
from tunedesk.ui.widgets.page_title import add_page_title


def _describe(source: Any) -> dict[str, Any]:
    """Runs in a thread: a ModelSource plus its ModelInfo as plain dicts (or the error, readable)."""
    from tunedesk.core.models.info import model_info

    try:
        return {"source": source.to_dict(), "info": model_info(source).to_dict()}
    except TuneDeskError as err:
        return {"source": source.to_dict(), "info": {}, "error": err.to_dict()}


class MachinePage(QWidget):
    """Hardware card and base-model picker. Sets `state.hardware`, `state.model_ref` and `state.model_info`.

    Signals:
        hardware_ready(dict): the probe finished (HardwareInfo.to_dict()).
        models_ready(): the model list was (re)filled.
    """

    hardware_ready = Signal(dict)
    models_ready = Signal()
    _result = Signal(str, object)  # (what, result) from a worker thread; queued to the GUI thread

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setAcceptDrops(True)
        self._result.connect(self._on_result)

        root = QVBoxLayout(self)
        root.setContentsMargins(28, 24, 28, 20)
        root.setSpacing(14)
        add_page_title(root, "Machine & model", "What this computer can do, and the model you start from.")
        self.banner = ErrorBanner()
        root.addWidget(self.banner)

        self.hw_card = HardwareCard()
        self.hw_card.probe_button.clicked.connect(lambda: self.probe(use_cache=False))
        # The page's own names for the card's parts, as before it had a module of its own.
        self.probe_button, self.summary = self.hw_card.probe_button, self.hw_card.summary
        self.hw_values = self.hw_card.hw_values
        root.addWidget(self.hw_card)

        self.model_card = Card(
            "Base model", "The model you fine-tune. The starter model is small and quick to try."
        )
        for text, slot in (("Open model folder…", self._open_folder), ("Open GGUF file…", self._open_gguf)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            self.model_card.header.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.models = ModelList()
        self.entries = self.models.entries  # model ref -> {"source", "info"}
        self.models.currentItemChanged.connect(self._on_model_selected)
        self.model_card.body.addWidget(self.models, 1)
        details = QGridLayout()
        details.setHorizontalSpacing(28)
        self.detail_values: dict[str, QLabel] = {}
        for col, name in enumerate(DETAIL_NAMES):
            value, label = QLabel("–"), QLabel(name)
            value.setStyleSheet("font-weight: 600;")
            set_role(label, "metric-label")
            details.addWidget(label, 0, col)
            details.addWidget(value, 1, col)
            details.setColumnStretch(col, 1)
            self.detail_values[name] = value
        self.model_card.body.addLayout(details)
        self.export_note = QLabel(" ")
        self.export_note.setWordWrap(True)
        self.model_card.body.addWidget(self.export_note)
        self.model_detail = help_label(
            "Or drop a model folder (config.json + .safetensors) or a .gguf file anywhere on this page."
        )
        self.model_card.body.addWidget(self.model_detail)
        root.addWidget(self.model_card)
        root.addStretch(1)
        next_row = QHBoxLayout()
        next_row.addStretch(1)
        self.next_button = QPushButton("Next: your data  →")
        set_role(self.next_button, "primary")
        self.next_button.clicked.connect(lambda: self.state.go_to("data"))
        next_row.addWidget(self.next_button)
        root.addLayout(next_row)

        self.probe(use_cache=True)
        self.refresh_models()

    # ---- background work --------------------------------------------------------------------------------
    def _emit(self, what: str, result: Any) -> None:
        """Hand a result from a worker thread to the GUI thread (a queued signal)."""
        try:
            self._result.emit(what, result)
        except RuntimeError:
            pass  # the page is gone

    def _in_thread(self, what: str, fn: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                result: Any = fn()
            except TuneDeskError as err:
                result = err
            except Exception as err:  # noqa: BLE001 - shown to the user, never a dead thread
                result = TuneDeskError(str(err) or type(err).__name__, kind="unexpected")
            if result is not None:
                self._emit(what, result)

        threading.Thread(target=run, name=f"machine-{what}", daemon=True).start()

    def probe(self, *, use_cache: bool = True) -> None:
        from tunedesk.core.hardware.probe import probe_hardware

        self.hw_card.set_probing()
        self._in_thread("probe", lambda: probe_hardware(use_cache=use_cache).to_dict())

    def refresh_models(self) -> None:
        """List the local models at once, then read each one's details (seconds per GGUF) as they come."""
        from tunedesk.core.models.source import list_local_models

        def work() -> None:
            sources = list_local_models()
            self._emit("sources", [{"source": s.to_dict(), "info": None} for s in sources])
            for source in sources:
                self._emit("info", _describe(source))

        self._in_thread("list", work)

    def add_model(self, path: str) -> None:
        """Resolve a folder or .gguf file the user picked or dropped; it is added and selected."""
        from tunedesk.core.models.source import resolve_model

        def work() -> None:
            source = resolve_model(path)  # a TuneDeskError here (not a model) goes to the banner
            self._emit("added", {"source": source.to_dict(), "info": None})
            self._emit("info", _describe(source))

        self._in_thread("add", work)

    @Slot(str, object)
    def _on_result(self, what: str, result: Any) -> None:
        if isinstance(result, TuneDeskError):
            if what == "probe":
                self.hw_card.set_failed()
            self.banner.show_error(result.message, result.hint)
            return
        if what == "probe":
            self.hw_card.show_hardware(result)
            self.state.set_hardware(result)
            self.hardware_ready.emit(result)
        elif what == "sources":
            for entry in result:
                self.models.add_entry(entry)
            if not result:
                self.export_note.setText(
                    "No model found on this computer yet. Open a model folder or a GGUF file above; "
                    "`tunedesk setup` installs the small starter model."
                )
            self.models.select(self.state.model_ref or "starter")
            self.models_ready.emit()
        elif what == "added":
            self.banner.hide()
            self.models.add_entry(result)
            self.models.select(result["source"]["ref"])
        elif what == "info":
            self.models.add_entry(result)
            if "error" in result:
                self.banner.show_error(result["error"]["message"], result["error"].get("hint", ""))
            if self.models.is_current(result["source"]["ref"]):
                self._on_model_selected(self.models.currentItem(), None)

    # ---- the list ---------------------------------------------------------------------------------------
    def entry_text(self, item: QListWidgetItem) -> str:
        """An entry as plain text (what a screen reader says; the tests read it too)."""
        return self.models.entry_text(item)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_model_selected(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if item is None:
            return
        entry = self.models.entry_of(item)
        info = entry["info"] or {}
        for name, value in model_details(info).items():
            self.detail_values[name].setText(value)
        exportable = info.get("exportable")
        mark = {True: "✓ ", False: "⚠ "}.get(exportable, "")
        self.export_note.setText(
            mark + (info.get("export_note") or ("Reading the model…" if not info else ""))
        )
        set_role(self.export_note, {True: "good", False: "bad"}.get(exportable, "help"))
        self.state.set_model_ref(entry["source"]["ref"])
        self.state.set_model_info(info or None)

    # ---- files ------------------------------------------------------------------------------------------
    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a Hugging Face model folder")
        if folder:
            self.add_model(folder)

    def _open_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.add_model(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt's name
        if any(
            Path(u.toLocalFile()).is_dir() or u.toLocalFile().lower().endswith(".gguf")
            for u in event.mimeData().urls()
        ):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802, ANN001
        for url in event.mimeData().urls():
            path = url.toLocalFile()
            if Path(path).is_dir() or path.lower().endswith(".gguf"):
                self.add_model(path)
                break
