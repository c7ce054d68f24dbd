"""The held-out sample answers of one check: what was asked, what was expected, what the model said.

The latest check is shown, each of its prompts in one row; the rows share the height there is, so every
prompt stays in view (a long answer is cut, its tooltip has all of it). Earlier checks are not piled
underneath: they are picked from the "Check" list, which follows the latest one until another is picked.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tunedesk.ui.widgets.help_label import help_label
from tunedesk.ui.widgets.read_only_table import ReadOnlyTable

COLUMNS = ("Prompt", "Expected", "Model's answer")
MIN_LINES = 2  # a row is never cut below this many lines; with more prompts than fit, the table scrolls


class _SamplesTable(ReadOnlyTable):
    """Rows as tall as their text while all fit; else they share the height, none under MIN_LINES."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self._fit_pending = False

    def fit_rows(self) -> None:
        if not self._fit_pending:  # once, after the layout pass under way (a fit resizes what it measures)
            self._fit_pending = True
            QTimer.singleShot(0, self, self._fit_now)

    def _fit_now(self) -> None:
        self._fit_pending = False
        rows = self.rowCount()
        if not rows:
            return
        self.resizeRowsToContents()
        natural = [self.rowHeight(r) for r in range(rows)]
        room = self.viewport().height()
        line = self.fontMetrics().lineSpacing()
        # Whole lines only: Qt draws the top of a line that does not fit instead of ending the last with "…".
        pad = line // 4
        # Short rows keep their height; the rest share what is left evenly.
        heights = list(natural)
        left = room
        for i, r in enumerate(sorted(range(rows), key=lambda r: natural[r])):
            share = left // (rows - i)
            if share < natural[r]:
                heights[r] = max(MIN_LINES, (share - pad) // line) * line + pad
            left -= heights[r]
        for r, h in enumerate(heights):
            self.setRowHeight(r, h)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit_rows()


class SamplesView(QWidget):
    """`check` (the list of checks, newest first) over `table` (that check's prompts).

    Signals:
        check_added(int): a check's answers came in, at this step.
    """

    check_added = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._checks: dict[int, list[dict[str, Any]]] = {}
        self._shown_step: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        row = QHBoxLayout()
        label = QLabel("Check")
        self.check = QComboBox()
        self.check.setToolTip("Which validation check's answers to show; the latest is shown as it comes")
        self.check.setAccessibleName("Check")
        self.check.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.check.currentIndexChanged.connect(self._show_current)
        label.setBuddy(self.check)
        self.note = help_label("The model's answers to held-out prompts, at each validation check.")
        row.addWidget(label)
        row.addWidget(self.check)
        row.addWidget(self.note, 1)
        layout.addLayout(row)
        self.table = _SamplesTable()
        layout.addWidget(self.table, 1)

    def add_event(self, ev: dict[str, Any]) -> None:
        if ev.get("event") != "eval" or not ev.get("samples"):
            return
        step = int(ev.get("step") or 0)
        following = self.check.currentIndex() <= 0  # on the latest: stay on the latest
        self._checks[step] = list(ev["samples"])
        steps = sorted(self._checks, reverse=True)
        self.check.blockSignals(True)
        self.check.clear()
        for i, s in enumerate(steps):
            self.check.addItem(f"step {s} (latest)" if i == 0 else f"step {s}", s)
        shown = steps[0] if following else self._shown_step
        self.check.setCurrentIndex(steps.index(shown))
        self.check.blockSignals(False)
        self._show_current()
        self.check_added.emit(step)

    def _show_current(self) -> None:
        step = self.check.currentData()
        self._shown_step = step
        samples = self._checks.get(step, [])
        self.table.setRowCount(len(samples))
        for r, sample in enumerate(samples):
            values = (
                str(sample.get("prompt", "")),
                str(sample.get("reference", sample.get("expected", ""))),
                str(sample.get("answer", "")),
            )
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                # Top-aligned: long answers wrap downwards and their first words stay in view.
                item.setTextAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
                self.table.setItem(r, col, item)
        self.table.fit_rows()

    def clear_samples(self) -> None:
        self._checks.clear()
        self.check.clear()
        self.table.setRowCount(0)

    def steps(self) -> list[int]:
        """The checks that have answers, newest first."""
        return [int(self.check.itemData(i)) for i in range(self.check.count())]

    def answers(self) -> list[str]:
        """The model's answers of the check shown."""
        return [self.table.item(r, 2).text() for r in range(self.table.rowCount())]
