"""Thumbs up / down and "Write a better answer" under a chat pane: the feedback becomes preference pairs in
the data folder (core/chat/feedback.py), a dataset a DPO run trains on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QPushButton, QWidget

from tunedesk.core.chat.feedback import FeedbackFile, feedback_path
from tunedesk.core.errors import TuneDeskError
from tunedesk.ui.style import set_role

# (prompt messages before the answer, the answer) of the last finished exchange, or None.
Exchange = Callable[[], "tuple[list[dict[str, str]], str] | None"]


class FeedbackBar(QWidget):
    """Rates the pane's last answer. `exchange()` says what that is; `set_model` picks the feedback file.

    Signals:
        saved(int): a rating was saved; the number of preference pairs the file now holds.
    """

    saved = Signal(int)

    def __init__(self, exchange: Exchange, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.exchange = exchange
        self.file: FeedbackFile | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        # Words, not emoji: many Linux desktops have no emoji font and showed two empty boxes.
        self.up = QPushButton("Good answer")
        self.down = QPushButton("Poor answer")
        self.better = QPushButton("Write a better answer…")
        for button, tip in (
            (self.up, "A good answer: kept as the preferred one against answers you rate down"),
            (self.down, "A poor answer: kept as the one to avoid"),
            (self.better, "Write the answer you wanted: a preference pair at once"),
        ):
            button.setToolTip(tip)
            lay.addWidget(button)
        self.status = QLabel(" ")
        set_role(self.status, "help")
        lay.addWidget(self.status, 1)
        self.up.clicked.connect(lambda: self._rate(True))
        self.down.clicked.connect(lambda: self._rate(False))
        self.better.clicked.connect(self._write_better)
        self.refresh()

    def set_model(self, model_path: str) -> None:
        self.file = FeedbackFile(feedback_path(Path(model_path).stem)) if model_path else None
        self.status.setText(" ")
        self.refresh()

    def refresh(self) -> None:
        ready = self.file is not None and self.exchange() is not None
        for button in (self.up, self.down, self.better):
            button.setEnabled(ready)

    def _rate(self, up: bool) -> None:
        self._save(lambda f, prompt, answer: f.rate(prompt, answer, up=up))

    def _write_better(self) -> None:
        current = self.exchange()
        if current is None:
            return
        text, ok = QInputDialog.getMultiLineText(
            self, "A better answer", "The answer you wanted:", current[1]
        )
        if ok:
            self._save(lambda f, prompt, answer: f.better_answer(prompt, answer, text))

    def _save(self, action: Callable[[FeedbackFile, list[dict[str, str]], str], int]) -> None:
        current = self.exchange()
        if current is None or self.file is None:
            return
        try:
            pairs = action(self.file, *current)
        except TuneDeskError as err:
            self.status.setText(f"{err.message} {err.hint}".strip())
            return
        self.saved.emit(pairs)
        self.status.setText(f"Saved. {pairs} preference pair{'s' if pairs != 1 else ''} in {self.file.path}")
