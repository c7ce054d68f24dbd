"""The Train page's settings panel: core's memory estimate above the preset form, in a scroll area."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget

from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.estimate_view import EstimateView
from tunedesk.ui.widgets.preset_form import PresetForm


class TrainSettings(QScrollArea):
    """The "Settings" card (`estimate`, an EstimateView, and `form`, a PresetForm), scrolling vertically."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        card = Card("Settings", "Chosen for this machine, model and data. Change anything you like.")
        self.estimate = EstimateView()
        self.form = PresetForm()
        card.body.addWidget(self.estimate)
        card.body.addSpacing(6)
        card.body.addWidget(self.form)
        card.body.addStretch(1)
        self.setWidgetResizable(True)
        self.setWidget(card)
        self.setMinimumWidth(330)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
