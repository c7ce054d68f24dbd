"""The Machine & model page: what this computer can train on, and which base model to start from.

Both facts come from core, off the GUI thread: `probe_hardware()` (itself a cached subprocess: the GUI never
imports torch) and `list_local_models()` / `resolve_model()` / `model_info()` (file headers only, no
weights). Python threads hand the results back through a queued signal; the page only lays them out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.formatting import gb as _gb
from tunedesk.ui.app_state import AppState
from tunedesk.ui.style import is_dark, set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.error_banner import ErrorBanner

REF_ROLE = Qt.ItemDataRole.UserRole
KIND_NAMES = {
    "starter": "starter model",
    "hf_cache": "Hugging Face cache",
    "gguf": "GGUF file",
    "folder": "model folder",
    "dequantized": "converted from GGUF",
}


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


DETAIL_NAMES = ("Architecture", "Layers", "Context", "Stored as", "Chat template")


def model_details(info: dict[str, Any]) -> dict[str, str]:
    """The selected model's facts for the detail row (dashes until they are read)."""
    if not info:
        return dict.fromkeys(DETAIL_NAMES, "–")
    return {
        "Architecture": info.get("architecture") or "?",
        "Layers": str(info.get("num_layers") or "?"),
        "Context": f"{info['max_positions']:,} tokens" if info.get("max_positions") else "?",
        "Stored as": info.get("dtype") or info.get("weights_format") or "?",
        "Chat template": "yes" if info.get("has_chat_template") else "none (plain text)",
    }


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
        self.models.setSpacing(2)
        # Rows are rich-text labels: a selected row is tinted, not inverted, so their colours stay readable.
        tint, line = ("#24365c", "#3d6fe0") if is_dark() else ("#eaf1fd", "#3d6fe0")
        self.models.setStyleSheet(
            f"QListWidget#modelList {{ border: none; background: transparent; }}"
            f"QListWidget#modelList::item {{ border: 1px solid transparent; border-radius: 8px; }}"
            f"QListWidget#modelList::item:selected {{ background: {tint}; border-color: {line}; }}"
        )
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
        self.model_detail = QLabel(
            "Or drop a model folder (config.json + .safetensors) or a .gguf file anywhere on this page."
        )
        self.model_detail.setWordWrap(True)
        set_role(self.model_detail, "help")
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

        self.probe_button.setEnabled(False)
        self.summary.setText("Looking at this computer…")
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
        elif what == "sources":
            for entry in result:
                self._add_entry(entry)
            if not result:
                self.export_note.setText(
                    "No model found on this computer yet. Open a model folder or a GGUF file above; "
                    "`tunedesk setup` installs the small starter model."
                )
            self._select(self.state.model_ref or "starter")
            self.models_ready.emit()
        elif what == "added":
            self.banner.hide()
            self._add_entry(result)
            self._select(result["source"]["ref"])
        elif what == "info":
            self._add_entry(result)
            if "error" in result:
                self.banner.show_error(result["error"]["message"], result["error"].get("hint", ""))
            current = self.models.currentItem()
            if current is not None and current.data(REF_ROLE) == result["source"]["ref"]:
                self._on_model_selected(current, None)

    # ---- the list ---------------------------------------------------------------------------------------
    def _add_entry(self, entry: dict[str, Any]) -> None:
        source, info = entry["source"], entry["info"]
        ref = source["ref"]
        self.entries[ref] = entry
        kind = KIND_NAMES.get(source["kind"], source["kind"])
        if info:
            line = model_line(info)
        else:
            line = entry.get("error", {}).get("message", "") or "Reading the model's details…"
        html = (
            f"<b style='font-size:11pt'>{escape(source['name'])}</b>&nbsp;&nbsp;"
            f"<span style='color:#8b8d94'>{kind}</span><br><span style='color:#62666d'>{escape(line)}</span>"
        )
        item = self._item(ref)
        if item is None:
            item = QListWidgetItem()
            item.setData(REF_ROLE, ref)
            self.models.addItem(item)
            label = QLabel()
            label.setContentsMargins(12, 8, 12, 8)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self.models.setItemWidget(item, label)
        label = self.models.itemWidget(item)
        label.setText(html)
        item.setToolTip(source["path"])
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{source['name']} ({kind}): {line}")
        item.setSizeHint(label.sizeHint())
        self._fit_list_height()

    def _fit_list_height(self) -> None:
        """As tall as its rows (up to five, then it scrolls): no empty box under a short list."""
        rows = [self.models.item(i).sizeHint().height() for i in range(min(self.models.count(), 5))]
        self.models.setFixedHeight(max(60, sum(rows) + 2 * self.models.spacing() * len(rows) + 8))

    def entry_text(self, item: QListWidgetItem) -> str:
        """An entry as plain text (what a screen reader says; the tests read it too)."""
        return str(item.data(Qt.ItemDataRole.AccessibleTextRole))

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
