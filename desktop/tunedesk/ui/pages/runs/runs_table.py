"""The Runs page's table: one row per training run, its status in words and colour, steps, loss, model, date."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidgetItem, QWidget

from tunedesk.core import status as run_status
from tunedesk.core.runs import RunSummary
from tunedesk.ui.widgets.read_only_table import ReadOnlyTable

COLUMNS = ("Run", "Status", "Steps", "Best val loss", "Model", "Date")
# A glance down the Status column tells what needs attention.
STATUS_COLORS = {
    "running": "#3d6fe0",
    "paused": "#b7791f",
    "completed": "#2e9d5b",
    "early_stopped": "#2e9d5b",
    "failed": "#d0453b",
    "crashed": "#d0453b",
}


def run_row(run: RunSummary) -> tuple[str, ...]:
    """A run's cells, in COLUMNS order."""
    best = f"{run.best_val_loss:.3f}" if run.best_val_loss is not None else "–"
    steps = f"{run.step} / {run.total_steps}" if run.total_steps else (str(run.step) if run.step else "–")
    return (
        run.name,
        run_status.label(run.status),
        steps,
        best,
        Path(run.model).name or run.model,
        time.strftime("%d %b %Y, %H:%M", time.localtime(run.created)),
    )


class RunsTable(ReadOnlyTable):
    """One row per run; every cell holds its run's folder (UserRole). Ctrl- or Shift-click selects several
    (two to compare)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

    def show_runs(self, runs: list[RunSummary]) -> None:
        self.setRowCount(len(runs))
        for row, run in enumerate(runs):
            for col, text in enumerate(run_row(run)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, str(run.path))
                if col == 0:
                    item.setToolTip(str(run.path))
                if col == 1 and run.status in STATUS_COLORS:
                    item.setForeground(QColor(STATUS_COLORS[run.status]))
                self.setItem(row, col, item)

    def selected_rows(self) -> list[int]:
        return sorted(index.row() for index in self.selectionModel().selectedRows())

    def select_rows(self, rows: list[int]) -> None:
        """Select exactly these rows (a refresh keeps a selection of several runs)."""
        self.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            self.selectionModel().select(self.model().index(row, 0), flags)
