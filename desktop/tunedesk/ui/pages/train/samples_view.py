"""The held-out sample answers as they appear: what was asked, what was expected, what the model said."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem, QWidget

from tunedesk.ui.widgets.read_only_table import ReadOnlyTable

COLUMNS = ("Step", "Prompt", "Expected", "Model's answer")


class SamplesView(ReadOnlyTable):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)
        self.setWordWrap(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)

    def add_event(self, ev: dict[str, Any]) -> None:
        if ev.get("event") != "eval":
            return
        samples = ev.get("samples") or []
        # Newest first: the question a user has is "what does it say now?"
        for sample in reversed(samples):
            self.insertRow(0)
            values = (
                str(ev.get("step", "")),
                str(sample.get("prompt", "")),
                str(sample.get("reference", sample.get("expected", ""))),
                str(sample.get("answer", "")),
            )
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                # Top-aligned: long answers wrap downwards and their first words stay in view.
                item.setTextAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
                self.setItem(0, col, item)
        if samples:
            self.resizeRowsToContents()

    def clear_samples(self) -> None:
        self.setRowCount(0)

    def answers(self) -> list[str]:
        return [self.item(r, 3).text() for r in range(self.rowCount())]
