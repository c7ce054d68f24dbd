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
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core.errors import TuneDeskError
from tunedesk.ui.app_state import AppState
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.error_banner import ErrorBanner

REF_ROLE = Qt.ItemDataRole.UserRole


def _gb(mb: float | None) -> str:
    return "?" if not mb else f"{mb / 1024:.1f} GB" if mb < 100 * 1024 else f"{mb / 1024:.0f} GB"


def _params(n: int) -> str:
    if not n:
        return "? parameters"
    return f"{n / 1e9:.1f}B parameters" if n >= 1e9 else f"{n / 1e6:.0f}M parameters"


def hardware_facts(hw: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) tiles for a HardwareInfo dict: device, memory, cores, free disk."""
    gpus = hw.get("cuda") or []
    if gpus:
        device = gpus[0]["name"]
        memory = f"{_gb(gpus[0]['total_mb'])} ({_gb(gpus[0]['free_mb'])} free)"
    elif hw.get("mps"):
        device, memory = "Apple GPU (Metal)", f"{_gb(hw.get('ram_total_mb'))} unified"
    else:
        device = hw.get("cpu_model") or "CPU"
        memory = f"{_gb(hw.get('ram_total_mb'))} RAM ({_gb(hw.get('ram_available_mb'))} free)"
    phys, logical = hw.get("cpu_physical_cores"), hw.get("cpu_logical_cores")
    cores = f"{phys or logical or '?'}" + (
        f" ({logical} threads)" if logical and phys and logical != phys else ""
    )
    return [
        ("Device", device),
        ("Memory", memory),
        ("CPU cores", cores),
        ("Free disk", _gb(hw.get("disk_free_mb"))),
    ]


def model_line(info: dict[str, Any]) -> str:
    """The second line of a model entry: size, disk, and whether it can become a GGUF file."""
    parts = [_params(info.get("params", 0)), f"{info.get('size_on_disk_mb', 0):,.0f} MB on disk"]
    if info.get("exportable") is False:
        parts.append("⚠ cannot be exported to GGUF")
    elif info.get("exportable"):
        parts.append("exports to GGUF")
    return "  ·  ".join(parts)


def _describe(source: Any) -> dict[str, Any]:
    """Runs in a thread: a ModelSource plus its ModelInfo as plain dicts (or the error, readable)."""
    from tunedesk.core.models import model_info

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
        self.entries: dict[str, dict[str, Any]] = {}  # model ref -> {"source", "info"}
        self._result.connect(self._on_result)

        root = QVBoxLayout(self)
        root.setContentsMargins(28, 24, 28, 20)
        root.setSpacing(14)
        title, sub = (
            QLabel("Machine & model"),
            QLabel("What this computer can do, and the model you start from."),
        )
        set_role(title, "title")
        set_role(sub, "subtitle")
        root.addWidget(title)
        root.addWidget(sub)
        self.banner = ErrorBanner()
        root.addWidget(self.banner)

        self.hw_card = Card("This computer")
        self.probe_button = QPushButton("Check again")
        self.probe_button.clicked.connect(lambda: self.probe(use_cache=False))
        self.hw_card.header.addWidget(self.probe_button, 0, Qt.AlignmentFlag.AlignTop)
        self.summary = QLabel("Looking at this computer…")
        self.summary.setWordWrap(True)
        set_role(self.summary, "metric")
        self.hw_card.body.addWidget(self.summary)
        tiles = QGridLayout()
        tiles.setHorizontalSpacing(28)
        self.hw_values: dict[str, QLabel] = {}
        for col, name in enumerate(("Device", "Memory", "CPU cores", "Free disk")):
            value, label = QLabel("…"), QLabel(name)
            value.setWordWrap(True)
            value.setStyleSheet("font-weight: 600;")
            set_role(label, "metric-label")
            tiles.addWidget(label, 0, col)
            tiles.addWidget(value, 1, col, Qt.AlignmentFlag.AlignTop)
            tiles.setColumnStretch(col, 1)
            self.hw_values[name] = value
        self.hw_card.body.addLayout(tiles)
        root.addWidget(self.hw_card)

        self.model_card = Card(
            "Base model", "The model you fine-tune. The starter model is small and quick to try."
        )
        for text, slot in (("Open model folder…", self._open_folder), ("Open GGUF file…", self._open_gguf)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            self.model_card.header.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.models = QListWidget()
        self.models.setObjectName("modelList")
        self.models.setSpacing(3)
        self.models.currentItemChanged.connect(self._on_model_selected)
        self.model_card.body.addWidget(self.models, 1)
        self.model_detail = QLabel(" ")
        self.model_detail.setWordWrap(True)
        set_role(self.model_detail, "help")
        self.model_card.body.addWidget(self.model_detail)
        drop = QLabel(
            "Or drop a model folder (config.json + .safetensors) or a .gguf file anywhere on this page."
        )
        set_role(drop, "help")
        self.model_card.body.addWidget(drop)
        root.addWidget(self.model_card, 1)

        self.probe(use_cache=True)
        self.refresh_models()

    # ---- background work --------------------------------------------------------------------------------
    def _in_thread(self, what: str, fn: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                result: Any = fn()
            except TuneDeskError as err:
                result = err
            except Exception as err:  # noqa: BLE001 - shown to the user, never a dead thread
                result = TuneDeskError(str(err) or type(err).__name__, kind="unexpected")
            try:
                self._result.emit(what, result)
            except RuntimeError:
                pass  # the page is gone

        threading.Thread(target=run, name=f"machine-{what}", daemon=True).start()

    def probe(self, *, use_cache: bool = True) -> None:
        from tunedesk.core.hardware import probe_hardware

        self.probe_button.setEnabled(False)
        self.summary.setText("Looking at this computer…")
        self._in_thread("probe", lambda: probe_hardware(use_cache=use_cache).to_dict())

    def refresh_models(self) -> None:
        from tunedesk.core.models import list_local_models

        self._in_thread("list", lambda: [_describe(s) for s in list_local_models()])

    def add_model(self, path: str) -> None:
        """Resolve a folder or .gguf file the user picked or dropped; it is added and selected."""
        from tunedesk.core.models import resolve_model

        self._in_thread("add", lambda: _describe(resolve_model(path)))

    @Slot(str, object)
    def _on_result(self, what: str, result: Any) -> None:
        if isinstance(result, TuneDeskError):
            if what == "probe":
                self.probe_button.setEnabled(True)
                self.summary.setText("Could not look at this computer.")
            self.banner.show_error(result.message, result.hint)
            return
        if what == "probe":
            self.probe_button.setEnabled(True)
            self.summary.setText(result.get("summary", ""))
            for name, value in hardware_facts(result):
                self.hw_values[name].setText(value)
            self.state.set_hardware(result)
            self.hardware_ready.emit(result)
        elif what == "list":
            for entry in result:
                self._add_entry(entry)
            self._select(self.state.model_ref or "starter")
            self.models_ready.emit()
        elif what == "add":
            if "error" in result:
                self.banner.show_error(result["error"]["message"], result["error"].get("hint", ""))
                return
            self._add_entry(result)
            self._select(result["source"]["ref"])

    # ---- the list ---------------------------------------------------------------------------------------
    def _add_entry(self, entry: dict[str, Any]) -> None:
        source, info = entry["source"], entry["info"]
        ref = source["ref"]
        self.entries[ref] = entry
        kind = {"starter": "starter model", "hf_cache": "Hugging Face cache", "gguf": "GGUF file"}.get(
            source["kind"], source["kind"]
        )
        text = f"{source['name']}   ({kind})\n{model_line(info) if info else entry.get('error', {}).get('message', '')}"
        existing = self._item(ref)
        item = existing or QListWidgetItem()
        item.setText(text)
        item.setData(REF_ROLE, ref)
        item.setToolTip(source["path"])
        if existing is None:
            self.models.addItem(item)

    def _item(self, ref: str) -> QListWidgetItem | None:
        for row in range(self.models.count()):
            if self.models.item(row).data(REF_ROLE) == ref:
                return self.models.item(row)
        return None

    def _select(self, ref: str) -> None:
        item = self._item(ref) or (self.models.item(0) if self.models.count() else None)
        if item is not None:
            self.models.setCurrentItem(item)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_model_selected(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if item is None:
            return
        entry = self.entries[item.data(REF_ROLE)]
        info = entry["info"]
        bits = [
            info.get("architecture") or "",
            f"{info.get('num_layers', 0)} layers" if info.get("num_layers") else "",
        ]
        bits.append("chat template ✓" if info.get("has_chat_template") else "no chat template")
        if info.get("export_note"):
            bits.append(info["export_note"])
        self.model_detail.setText("  ·  ".join(b for b in bits if b))
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
