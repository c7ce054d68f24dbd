"""The Data page's two views of a dataset: the preview table (rows as core read them) and the file itself.

A problem reported on line N can be shown in both (`go_to_line`): its row when core kept it, and the line of
the file, highlighted.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QColor, QTextCursor, QTextFormat
from PySide6.QtWidgets import QHeaderView, QPlainTextEdit, QTableView, QTabWidget, QTextEdit, QWidget

from tunedesk.ui.pages.data.preview_table import PreviewTableModel
from tunedesk.ui.style import is_dark, marked_line_color


class DataPreview(QTabWidget):
    """Tabs "Preview" (`table` over `preview`, a PreviewTableModel) and "File" (`raw`, numbered lines)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = PreviewTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.preview)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        # A narrow table shows "Answer (assi…" (the tooltip has all), not a header cut on both sides.
        self.table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        # Two lines of text per row; the tooltip has all.
        self.table.verticalHeader().setDefaultSectionSize(48)
        self.table.setAlternatingRowColors(True)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.addTab(self.table, "Preview")
        self.addTab(self.raw, "File")

    def clear_data(self) -> None:
        """Empty both views (the tabs stay; QTabWidget.clear() would remove them)."""
        self.preview.clear()
        self.raw.clear()

    def show_data(self, records: list[dict[str, Any]], raw: list[str]) -> None:
        """Core's records in the table, and the first lines of the file, numbered, in the File tab."""
        self.preview.set_records(records)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnToContents(0)
        for col, name in enumerate(self.preview.columns()):
            if name == "System":  # usually one repeated line: keep it narrow
                self.table.setColumnWidth(col, 130)
            elif name not in ("Line", "Turns"):
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        width = max(1, len(raw))
        self.raw.setPlainText("\n".join(f"{i:>{len(str(width))}}  {t}" for i, t in enumerate(raw, 1)))

    def go_to_line(self, line: int) -> None:
        """Show source line `line`: its preview row when it was kept, else the highlighted line of the file."""
        row = self.preview.row_for_line(line)
        if row is not None:
            self.table.selectionModel().select(
                self.preview.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(self.preview.index(row, 0))
            self.setCurrentWidget(self.table)
        block = self.raw.document().findBlockByNumber(line - 1)
        if block.isValid():
            cursor = QTextCursor(block)
            self.raw.setTextCursor(cursor)
            self.raw.centerCursor()
            self._mark(cursor)
            if row is None:
                self.setCurrentWidget(self.raw)

    def _mark(self, cursor: QTextCursor) -> None:
        """Highlight the cursor's line in the theme's colour."""
        mark = QTextEdit.ExtraSelection()
        mark.format.setBackground(QColor(marked_line_color(is_dark())))
        mark.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        mark.cursor = cursor
        self.raw.setExtraSelections([mark])

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.StyleChange:  # a theme switch: the marked line takes the new colour
            QTimer.singleShot(0, self, self._remark)  # after the theme's dark flag is set
        return super().event(event)

    def _remark(self) -> None:
        marks = self.raw.extraSelections()
        if marks:
            self._mark(marks[0].cursor)

    def current_raw_line(self) -> int:
        return self.raw.textCursor().blockNumber() + 1
