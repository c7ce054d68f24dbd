"""The Machine page's model list: one row per local model (name, kind, size, exportability), rich text.

Each row holds its model's ref (`REF_ROLE`) and, for screen readers and tests, a plain-text version of itself
(`entry_text`). The facts are core's (`ModelSource.to_dict()`, `ModelInfo.to_dict()`); rows only show them.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import QEvent, QMargins, Qt, QTimer
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QWidget

from tunedesk.ui.style import is_dark, muted_color

REF_ROLE = Qt.ItemDataRole.UserRole
VISIBLE_ROWS = 5  # the list grows to this many rows, then scrolls
KIND_NAMES = {
    "starter": "starter model",
    "hf_cache": "Hugging Face cache",
    "gguf": "GGUF file",
    "folder": "model folder",
    "dequantized": "converted from GGUF",
}
DETAIL_NAMES = ("Architecture", "Layers", "Context", "Stored as", "Chat template")


def _params(n: int) -> str:
    if not n:
        return "? parameters"
    return f"{n / 1e9:.1f}B parameters" if n >= 1e9 else f"{n / 1e6:.0f}M parameters"


def model_line(info: dict[str, Any]) -> str:
    """The second line of a model entry: size, disk, and whether it can become a GGUF file."""
    parts = [_params(info.get("params", 0)), f"{info.get('size_on_disk_mb', 0):,.0f} MB on disk"]
    if info.get("exportable") is False:
        parts.append("⚠ cannot be exported to GGUF")
    elif info.get("exportable"):
        parts.append("exports to GGUF")
    return "  ·  ".join(parts)


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


def _kind_and_line(entry: dict[str, Any]) -> tuple[str, str]:
    """A row's kind of model and its second line (or why its details are missing)."""
    kind = KIND_NAMES.get(entry["source"]["kind"], entry["source"]["kind"])
    if entry["info"]:
        return kind, model_line(entry["info"])
    return kind, entry.get("error", {}).get("message", "") or "Reading the model's details…"


class ModelList(QListWidget):
    """Model rows keyed by ref; `entries` maps each ref to its {"source", "info"[, "error"]} entry."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: dict[str, dict[str, Any]] = {}
        self.setObjectName("modelList")
        self.setSpacing(2)
        # Rows are rich-text labels: a selected row is tinted, not inverted (the app's stylesheet, style.py, so
        # a theme switch recolours it too).

    def add_entry(self, entry: dict[str, Any]) -> None:
        """Add a model's row, or update it when its ref is listed already (its details arrive later)."""
        source = entry["source"]
        ref = source["ref"]
        self.entries[ref] = entry
        kind, line = _kind_and_line(entry)
        item = self.item_for(ref)
        if item is None:
            item = QListWidgetItem()
            item.setData(REF_ROLE, ref)
            self.addItem(item)
            label = QLabel()
            label.setContentsMargins(12, 8, 12, 8)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self.setItemWidget(item, label)
        self._render(item)
        item.setToolTip(source["path"])
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{source['name']} ({kind}): {line}")
        self._fit_height()

    def _render(self, item: QListWidgetItem) -> None:
        """A row's label in the theme's colours (rich text does not follow the palette by itself)."""
        entry = self.entry_of(item)
        name, kind, line = entry["source"]["name"], *_kind_and_line(entry)
        muted = muted_color(is_dark())
        self.itemWidget(item).setText(
            f"<b style='font-size:11pt'>{escape(name)}</b>&nbsp;&nbsp;<span style='color:{muted}'>{kind}</span>"
            f"<br><span style='color:{muted}'>{escape(line)}</span>"
        )

    def event(self, event: QEvent) -> bool:
        # A row's height follows its label's fonts, which the theme sets when the list is shown or restyled: a
        # height taken before that cut the row's second line short. A theme switch recolours the rows.
        if event.type() in (QEvent.Type.Show, QEvent.Type.StyleChange, QEvent.Type.FontChange):
            QTimer.singleShot(0, self, self._restyle)  # dropped if the list is deleted first
        return super().event(event)

    def _restyle(self) -> None:
        # Deferred: the theme's dark flag is set after the stylesheet whose change brought us here.
        for i in range(self.count()):
            if self.itemWidget(self.item(i)) is not None:
                self._render(self.item(i))
        self._fit_height()

    def _fit_height(self) -> None:
        """Each row as tall as its label; the list as tall as its rows (up to five, then it scrolls)."""
        for i in range(self.count()):
            label = self.itemWidget(self.item(i))
            if label is not None:  # + the 1 px item border of style.py on each side
                self.item(i).setSizeHint(label.sizeHint().grownBy(QMargins(1, 1, 1, 1)))
        rows = [self.item(i).sizeHint().height() for i in range(min(self.count(), VISIBLE_ROWS))]
        self.setFixedHeight(max(60, sum(rows) + 2 * self.spacing() * len(rows) + 8))

    @staticmethod
    def entry_text(item: QListWidgetItem) -> str:
        """An entry as plain text (what a screen reader says; the tests read it too)."""
        return str(item.data(Qt.ItemDataRole.AccessibleTextRole))

    def item_for(self, ref: str) -> QListWidgetItem | None:
        for row in range(self.count()):
            if self.item(row).data(REF_ROLE) == ref:
                return self.item(row)
        return None

    def entry_of(self, item: QListWidgetItem) -> dict[str, Any]:
        return self.entries[item.data(REF_ROLE)]

    def select(self, ref: str) -> None:
        """Select `ref`'s row, or the first row when it is not listed."""
        item = self.item_for(ref) or (self.item(0) if self.count() else None)
        if item is not None:
            self.setCurrentItem(item)

    def is_current(self, ref: str) -> bool:
        current = self.currentItem()
        return current is not None and current.data(REF_ROLE) == ref
