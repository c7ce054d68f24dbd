"""The Chat page's top card: which model answers, whether the base model answers beside it, and how to pick."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from tunedesk.ui.widgets.card import Card


class ModelBar(Card):
    """`model_label`, `compare_box`; the page connects `open_button` and `starter_button`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        row = QHBoxLayout()
        row.setSpacing(10)
        caption = QLabel("Model")
        caption.setStyleSheet("color: #8b8d94")
        self.model_label = QLabel()
        # Elided to the room it has (full path in the tooltip): a long file name pushed the page wider than
        # a 1024 px screen.
        self.model_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.model_label.setMinimumWidth(80)
        bold = self.model_label.font()
        bold.setBold(True)
        self.model_label.setFont(bold)
        self._name = ""
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
        self._name = Path(path).name if path else "No model chosen yet"
        self.model_label.setToolTip(path)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._elide()

    def _elide(self) -> None:
        if not self.isVisible():  # not laid out yet: its width means nothing
            self.model_label.setText(self._name)
            return
        metrics = self.model_label.fontMetrics()
        width = max(self.model_label.width(), self.model_label.minimumWidth())
        self.model_label.setText(metrics.elidedText(self._name, Qt.TextElideMode.ElideMiddle, width))
