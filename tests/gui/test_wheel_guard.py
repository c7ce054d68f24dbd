"""A wheel over an unfocused field changes nothing (the page scrolls instead); with focus it does."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QSpinBox, QVBoxLayout, QWidget

from tunedesk.ui.wheel_guard import install_wheel_guard


def wheel(widget: QWidget, steps: int = -1) -> None:
    pos = QPointF(widget.rect().center())
    event = QWheelEvent(
        pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(), QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(widget, event)


def test_wheel_changes_only_the_focused_field(qtbot) -> None:
    guard = install_wheel_guard(QApplication.instance())
    try:
        page = QWidget()
        layout = QVBoxLayout(page)
        spin, combo = QSpinBox(), QComboBox()
        spin.setRange(0, 100)
        spin.setValue(50)
        combo.addItems(["wsd", "cosine", "constant"])
        layout.addWidget(spin)
        layout.addWidget(combo)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitExposed(page)
        page.setFocus()
        wheel(spin)
        wheel(combo)
        assert (spin.value(), combo.currentText()) == (50, "wsd")
        assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus
        spin.setFocus()
        qtbot.waitUntil(spin.hasFocus)
        wheel(spin)
        assert spin.value() != 50
    finally:
        QApplication.instance().removeEventFilter(guard)


def test_fields_built_before_the_guard_get_its_focus_policy(qtbot) -> None:
    """app.py installs the guard once the window is built (start-up): those fields are guarded too."""
    page = QWidget()
    layout = QVBoxLayout(page)
    spin, combo = QSpinBox(), QComboBox()
    layout.addWidget(spin)
    layout.addWidget(combo)
    qtbot.addWidget(page)
    page.ensurePolished()
    for field in (spin, combo):
        field.setFocusPolicy(Qt.FocusPolicy.WheelFocus)  # as a field may have it before the guard
    guard = install_wheel_guard(QApplication.instance(), page)
    try:
        assert spin.focusPolicy() == combo.focusPolicy() == Qt.FocusPolicy.StrongFocus
        page.show()
        qtbot.waitExposed(page)
        page.setFocus()
        spin.setValue(5)
        wheel(spin)
        assert spin.value() == 5
    finally:
        QApplication.instance().removeEventFilter(guard)
