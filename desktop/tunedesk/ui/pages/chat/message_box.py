"""The Chat page's message box: what to ask, and Send / Stop / New chat (Ctrl+Enter sends)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from tunedesk.ui.style import set_role


class MessageBox(QWidget):
    """`input` beside `send_button`, `stop_button` and `new_button`.

    Signals:
        send_requested(): Send was clicked or Ctrl+Enter pressed.
    """

    send_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.input = QPlainTextEdit()
        self.input.setObjectName("ChatInput")
        self.input.setPlaceholderText("Write a message…   (Ctrl+Enter sends)")
        self.input.setFixedHeight(72)
        buttons = QVBoxLayout()
        self.send_button = QPushButton("Send")
        set_role(self.send_button, "primary")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send_requested)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.new_button = QPushButton("New chat")
        for b in (self.send_button, self.stop_button, self.new_button):
            buttons.addWidget(b)
        row.addWidget(self.input, 1)
        row.addLayout(buttons)
        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.send_requested)
