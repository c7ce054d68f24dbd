"""A number over its name, the way the app shows counts and measurements in a grid."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel

from tunedesk.ui.style import set_role

NO_ALIGNMENT = Qt.AlignmentFlag(0)  # the grid's default: the widget fills its cell


def add_metric(grid: QGridLayout, col: int, name: str, alignment: Qt.AlignmentFlag = NO_ALIGNMENT) -> QLabel:
    """Put a value ("–" until known) over `name` in column `col` of `grid`; returns the value's label."""
    value = QLabel("–")
    set_role(value, "metric")
    label = QLabel(name)
    set_role(label, "metric-label")
    grid.addWidget(value, 0, col, alignment)
    grid.addWidget(label, 1, col, alignment)
    return value


def fact_grid(names: tuple[str, ...], placeholder: str = "–") -> tuple[QGridLayout, dict[str, QLabel]]:
    """A row of facts, each a small name over its value in bold (word-wrapped); returns the grid and the
    value labels by name."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(28)
    values: dict[str, QLabel] = {}
    for col, name in enumerate(names):
        value, label = QLabel(placeholder), QLabel(name)
        value.setWordWrap(True)
        value.setStyleSheet("font-weight: 600;")
        set_role(label, "metric-label")
        grid.addWidget(label, 0, col)
        grid.addWidget(value, 1, col, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(col, 1)
        values[name] = value
    return grid, values
