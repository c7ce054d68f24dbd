"""How a page is laid out: its main column (margins, title, subtitle) and two panels side by side."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from tunedesk.ui.widgets.page_title import add_page_title


def page_column(page: QWidget, title: str, subtitle: str, *, spacing: int = 14) -> QVBoxLayout:
    """`page`'s main column with the pages' margins, starting with its title and subtitle."""
    root = QVBoxLayout(page)
    root.setContentsMargins(28, 24, 28, 20)
    root.setSpacing(spacing)
    add_page_title(root, title, subtitle)
    return root


def side_by_side(left: QWidget, right: QWidget, *, stretch: tuple[int, int], sizes: list[int]) -> QSplitter:
    """`left` and `right` in a splitter the user can drag; `stretch` shares out width gained by resizing."""
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(left)
    split.addWidget(right)
    for index, factor in enumerate(stretch):
        split.setStretchFactor(index, factor)
    split.setSizes(sizes)
    return split
