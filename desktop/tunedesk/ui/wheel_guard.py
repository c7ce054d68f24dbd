"""Fields change on the mouse wheel only when they have focus: scrolling a page never edits what passes by.

A wheel over an unfocused spin box or combo box is handed to its parent instead, so the page scrolls as the
user meant (on the Train page the schedule went from wsd to constant while scrolling). One filter for the
whole application, installed by app.py.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()  # every event of the app passes here: read it once
        if kind != QEvent.Type.Wheel and kind != QEvent.Type.Polish:
            return False
        if (
            kind == QEvent.Type.Wheel
            and isinstance(watched, (QAbstractSpinBox, QComboBox))
            and not watched.hasFocus()
        ):
            parent = watched.parentWidget()
            if parent is not None:
                QCoreApplication.sendEvent(parent, event)
            return True
        if kind == QEvent.Type.Polish and isinstance(watched, (QAbstractSpinBox, QComboBox)):
            # Focus by click or Tab only, so a wheel never focuses (and then edits) a field by itself.
            assert isinstance(watched, QWidget)
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return False


def install_wheel_guard(app: QCoreApplication, *built: QWidget) -> WheelGuard:
    """The filter for the whole application. Fields in `built` (widgets made before it, already polished)
    get their focus policy here; fields made later get it from their Polish event."""
    guard = WheelGuard(app)
    for root in built:
        for kind in (QAbstractSpinBox, QComboBox):
            for field in root.findChildren(kind):
                field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    app.installEventFilter(guard)
    return guard
