"""A banner for errors and notices: a readable message and what to do, with the traceback one click away."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from tunedesk.ui.style import set_role


class ErrorBanner(QFrame):
    """Hidden until `show_error` / `show_info`. Non-modal: the page stays usable under it.

    Signals:
        action_clicked(): the optional action button (e.g. "Resume") was pressed.
        dismissed(): the user closed the banner.
    """

    action_clicked = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "banner-error")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 10, 10, 10)
        row = QHBoxLayout()
        texts = QVBoxLayout()
        texts.setSpacing(2)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-weight: 600;")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        texts.addWidget(self.message)
        texts.addWidget(self.hint)
        row.addLayout(texts, 1)
        self.action = QPushButton()
        self.action.clicked.connect(self.action_clicked)
        self.details_button = QPushButton("Details")
        set_role(self.details_button, "link")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._toggle_details)
        self.close_button = QPushButton("Dismiss")
        set_role(self.close_button, "link")
        self.close_button.clicked.connect(self._dismiss)
        for b in (self.action, self.details_button, self.close_button):
            row.addWidget(b, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(row)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(180)
        self.details.setStyleSheet("font-family: monospace; font-size: 9pt;")
        self.details.hide()
        outer.addWidget(self.details)
        self.hide()

    def show_error(self, message: str, hint: str = "", details: str = "", action: str = "") -> None:
        self._show("banner-error", message, hint, details, action)

    def show_info(self, message: str, hint: str = "", action: str = "") -> None:
        self._show("banner-info", message, hint, "", action)

    def _show(self, role: str, message: str, hint: str, details: str, action: str) -> None:
        set_role(self, role)
        self.message.setText(message)
        self.hint.setText(f"What to do: {hint}" if hint and role == "banner-error" else hint)
        self.hint.setVisible(bool(hint))
        self.details.setPlainText(details)
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        self.action.setText(action)
        self.action.setVisible(bool(action))
        self.show()

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Details")

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
