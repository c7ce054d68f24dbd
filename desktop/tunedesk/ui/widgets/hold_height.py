"""Keep a widget as tall as its contents need at its present width, word-wrapped lines included.

Qt's layouts take a widget's minimum size hint as it is reported for its preferred width; a word-wrapped label
needs more lines when the widget is narrower (a 1024x640 screen), and a splitter or scroll area above never
asks. The widget was then squeezed until its rows overlapped. A hard minimum height, renewed whenever its
width or contents change, is what those parents do respect: the page scrolls instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

_EVENTS = (QEvent.Type.LayoutRequest, QEvent.Type.Resize, QEvent.Type.Show)


class _HoldHeight(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self._widget = widget
        self._pending = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in _EVENTS and not self._pending:
            # After the layout pass under way: a minimum changed inside it is not laid out again.
            self._pending = True
            QTimer.singleShot(0, self, self._apply)  # dropped if the widget goes first
        return False

    def _apply(self) -> None:
        self._pending = False
        layout = self._widget.layout()
        if layout is None:
            return
        needed = layout.minimumSize().height()
        if layout.hasHeightForWidth():
            needed = max(needed, layout.totalHeightForWidth(self._widget.width()))
        if needed != self._widget.minimumHeight():
            self._widget.setMinimumHeight(needed)


def hold_height(widget: QWidget) -> None:
    """From now on, `widget` is never given less height than its layout needs at its width."""
    widget.installEventFilter(_HoldHeight(widget))
