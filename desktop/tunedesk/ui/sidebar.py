"""The main window's sidebar: the six steps, one row each, greyed out (with the reason) until they can open."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from tunedesk.core.paths import resources_dir
from tunedesk.ui.app_state import PAGE_NAMES

TITLES = {
    "machine": "Machine & model",
    "data": "Data",
    "train": "Train",
    "export": "Export",
    "chat": "Chat",
    "runs": "Runs",
}


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / name


class PageSidebar(QListWidget):
    """One row per page, in PAGE_NAMES order; a row's data (UserRole) is its page's name."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setIconSize(QSize(20, 20))
        # Wide enough for the longest title in this system's font (icon, gaps and the row's padding beside it):
        # a fixed 176 px showed a sideways scroll bar with wider fonts (DejaVu Sans, the Linux bundle's).
        longest = max(self.fontMetrics().horizontalAdvance(t) for t in TITLES.values())
        self.setFixedWidth(max(176, longest + 20 + 64))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for name in PAGE_NAMES:
            item = QListWidgetItem(QIcon(str(icon_path(f"pages/{name}.svg"))), TITLES[name])
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.addItem(item)

    def set_missing(self, name: str, missing: str) -> None:
        """Enable a page's row when nothing is missing; else disable it, saying what is missing."""
        row = PAGE_NAMES.index(name)
        item = self.item(row)
        flags = item.flags()
        if missing:
            item.setFlags(flags & ~Qt.ItemFlag.ItemIsEnabled)
        else:
            item.setFlags(flags | Qt.ItemFlag.ItemIsEnabled)
        item.setToolTip(missing or f"{TITLES[name]} (Ctrl+{row + 1})")
