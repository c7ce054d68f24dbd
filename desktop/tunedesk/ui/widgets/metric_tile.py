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
