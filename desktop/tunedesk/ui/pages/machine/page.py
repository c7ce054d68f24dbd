"""The Machine & model page: what this computer can train on, and which base model to start from.

Both facts come from core, off the GUI thread: `probe_hardware()` (itself a cached subprocess: the GUI never
imports torch) and `list_local_models()` / `resolve_model()` / `model_info()` (file headers only, no
weights). BackgroundTasks hands the results back through a queued signal; the page only lays them out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.models.source import needed_consents
from tunedesk.ui.app_state import AppState
from tunedesk.ui.background import BackgroundTasks
from tunedesk.ui.pages.machine.hardware_card import HardwareCard
from tunedesk.ui.pages.machine.model_card import ModelCard
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.widgets.page_layout import page_column


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

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setAcceptDrops(True)
        self.tasks = BackgroundTasks(self)
        self.tasks.done.connect(self._on_result)
        self.tasks.failed.connect(self._on_failed)
        self._build()
        self.probe(use_cache=True)
        self.refresh_models()

    def _build(self) -> None:
        root = page_column(
            self, "Machine & model", "What this computer can do, and the model you start from."
        )
        self.banner = ErrorBanner()
        root.addWidget(self.banner)
        self.hw_card = HardwareCard()
        self.hw_card.probe_button.clicked.connect(lambda: self.probe(use_cache=False))
        root.addWidget(self.hw_card)
        self.model_card = ModelCard()
        self.model_card.open_folder_button.clicked.connect(self._open_folder)
        self.model_card.open_gguf_button.clicked.connect(self._open_gguf)
        self.models = self.model_card.models
        self.models.currentItemChanged.connect(self._on_model_selected)
        self.model_card.consent.toggled.connect(self._on_consent)
        root.addWidget(self.model_card)
        root.addStretch(1)
        next_row = QHBoxLayout()
        next_row.addStretch(1)
        self.next_button = QPushButton("Next: your data  →")
        set_role(self.next_button, "primary")
        self.next_button.clicked.connect(lambda: self.state.go_to("data"))
        next_row.addWidget(self.next_button)
        root.addLayout(next_row)
        # Short names for the parts the tests and the main window read.
        self.probe_button, self.summary = self.hw_card.probe_button, self.hw_card.summary
        self.hw_values = self.hw_card.hw_values
        self.detail_values, self.export_note = self.model_card.detail_values, self.model_card.export_note

    # ---- background work --------------------------------------------------------------------------------
    def probe(self, *, use_cache: bool = True) -> None:
        from tunedesk.core.hardware.probe import probe_hardware

        self.hw_card.set_probing()
        self.tasks.run("probe", lambda: probe_hardware(use_cache=use_cache).to_dict())

    def refresh_models(self) -> None:
        """List the local models at once, then read each one's details (seconds per GGUF) as they come."""
        from tunedesk.core.models.source import list_local_models

        post = self.tasks.poster()  # the thread holds the queue, never the page

        def work() -> None:
            sources = list_local_models()
            post("sources", [{"source": s.to_dict(), "info": None} for s in sources])
            for source in sources:
                post("info", _describe(source))

        self.tasks.run("list", work)

    def add_model(self, path: str) -> None:
        """Resolve a folder or .gguf file the user picked or dropped; it is added and selected."""
        from tunedesk.core.models.source import resolve_model

        post = self.tasks.poster()

        def work() -> None:
            try:
                source = resolve_model(path)  # a TuneDeskError here (not a model) goes to the banner
            except TuneDeskError as err:
                if err.kind != "unsafe_model":
                    raise
                # A model that needs consent is listed (nothing of it is loaded here): its consent box asks.
                source = resolve_model(path, allow_pickle=True, trust_remote_code=True)
            post("added", {"source": source.to_dict(), "info": None})
            post("info", _describe(source))

        self.tasks.run("add", work)

    @Slot(str, object)
    def _on_failed(self, what: str, err: TuneDeskError) -> None:
        if what == "probe":
            self.hw_card.set_failed()
        self.banner.show_error(err.message, err.hint)

    @Slot(str, object)
    def _on_result(self, what: str, result: Any) -> None:
        if what == "probe":
            self.hw_card.show_hardware(result)
            self.state.set_hardware(result)
            self.hardware_ready.emit(result)
        elif what == "sources":
            for entry in result:
                self.models.add_entry(entry)
            if not result:
                self.model_card.show_none_found()
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
        self.model_card.show_details(info)
        self.state.set_model_ref(entry["source"]["ref"])
        self.state.set_model_info(info or None)
        needs = needed_consents(info)
        self.model_card.consent.show_for(needs, bool(needs) and not self.state.missing_consents())

    def _on_consent(self, given: bool) -> None:
        """The consent box was ticked or cleared: for the chosen model alone."""
        self.state.set_consent(
            self.state.model_ref, needed_consents(self.state.model_info or {}) if given else []
        )
        self.model_card.consent.show_status(given)

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
