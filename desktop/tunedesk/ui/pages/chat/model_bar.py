"""The Chat page's top card: which model answers, whether the base model answers beside it, and how to pick."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.elided_label import ElidedLabel


class ModelBar(Card):
    """`model_label`, `compare_box`; the page connects `open_button` and `starter_button`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        row = QHBoxLayout()
        row.setSpacing(10)
        caption = QLabel("Model")
        caption.setStyleSheet("color: #8b8d94")
        self.model_label = ElidedLabel(bold=True)  # a long file name must not widen the page
        self.open_button = QPushButton("Open GGUF…")
        self.starter_button = QPushButton("Use starter model")
        self.compare_box = QCheckBox("Compare with the base model")
        self.compare_box.setToolTip(
            "Send each message to the base model too and show both answers side by side."
        )
        row.addWidget(caption)
        row.addWidget(self.model_label, 1)
        row.addWidget(self.compare_box)
        row.addSpacing(12)
        row.addWidget(self.open_button)
        row.addWidget(self.starter_button)
        self.body.addLayout(row)

    def show_model(self, path: str) -> None:
        self.model_label.set_full_text(Path(path).name if path else "No model chosen yet", tooltip=path)
