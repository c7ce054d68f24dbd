"""A one-line label that shortens its text in the middle to the room it has, the whole text in its tooltip.

A file name or a folder has no spaces to wrap at: in a plain QLabel it sets the page's minimum width, and on a
1024 px screen the page scrolled sideways for it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """`set_full_text(text)`; `full_text` is what it says when there is room (tests read that)."""

    def __init__(self, text: str = "", *, bold: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(80)
        if bold:
            font = self.font()
            font.setBold(True)
            self.setFont(font)
        self.full_text = ""
        self.set_full_text(text)

    def set_full_text(self, text: str, tooltip: str | None = None) -> None:
        self.full_text = text
        self.setToolTip(text if tooltip is None else tooltip)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._elide()

    def _elide(self) -> None:
        if not self.isVisible():  # not laid out yet: its width means nothing
            self.setText(self.full_text)
            return
        width = max(self.width(), self.minimumWidth())
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, width))
