"""The log pane: the worker's stderr and its `log` events, newest at the bottom, bounded in size."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

MAX_LINES = 5000  # a long run's log must not grow the GUI's memory without bound


class LogView(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("The worker's messages appear here.")

    def append_line(self, text: str, level: str = "") -> None:
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2  # follow the tail only if the user has not scrolled up
        prefix = f"[{level}] " if level and level not in ("info", "INFO") else ""
        self.appendPlainText(prefix + text.rstrip("\n"))
        if at_end:
            self.moveCursor(QTextCursor.MoveOperation.End)
            bar.setValue(bar.maximum())

    def lines(self) -> list[str]:
        return self.toPlainText().splitlines()
