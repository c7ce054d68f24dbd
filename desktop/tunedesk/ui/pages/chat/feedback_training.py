""" "Train on my feedback" on the Chat page: the button, and one plain line saying why it cannot start yet.

What is ready, and why not, is core's (training/feedback_run.py: feedback_readiness); the page creates the run
and hands it to the Train page, which starts and shows it like any other run.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from tunedesk.ui.style import set_role

TIP = "Preference-tune (DPO) the model you are chatting with on the answers you rated, then watch it train"


class FeedbackTraining(QWidget):
    """`button` ("Train on my feedback") and `reason` (why it is disabled, or how many pairs it would use)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton("Train on my feedback")
        self.button.setToolTip(TIP)
        self.reason = QLabel(" ")
        set_role(self.reason, "help")
        lay.addWidget(self.button)
        lay.addWidget(self.reason, 1)
        self.show_state(False, "Open a model to chat with first.")

    def show_state(self, ready: bool, line: str) -> None:
        """Enable the button or not; `line` says why not, or what it would train on."""
        self.button.setEnabled(ready)
        self.reason.setText(line)
