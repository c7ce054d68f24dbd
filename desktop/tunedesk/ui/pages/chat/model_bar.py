"""The Chat page's top card: which model answers, whether the base model answers beside it, and how to pick."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from tunedesk.ui.widgets.card import Card


class ModelBar(Card):
    """`model_label`, `compare_box`; the page connects `open_button` and `starter_button`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        row = QHBoxLayout()
        row.setSpacing(10)
        self.model_label = QLabel()
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open GGUF…")
        self.starter_button = QPushButton("Use starter model")
        self.compare_box = QCheckBox("Compare with the base model")
        self.compare_box.setToolTip(
            "Send each message to the base model too and show both answers side by side."
        )
        row.addWidget(self.model_label, 1)
        row.addWidget(self.compare_box)
        row.addSpacing(12)
        row.addWidget(self.open_button)
        row.addWidget(self.starter_button)
        self.body.addLayout(row)

    def show_model(self, path: str) -> None:
        name = f"<b>{escape(Path(path).name)}</b>" if path else "No model chosen yet"
        self.model_label.setText(f"<span style='color:#8b8d94'>Model</span>&nbsp;&nbsp;{name}")
        self.model_label.setToolTip(path)
