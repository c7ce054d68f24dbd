"""The Export page's size-and-quality card: one radio button per quantization, each with its plain line."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QLabel, QRadioButton, QWidget

from tunedesk.core.export.quants import QUANTS
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label

# The choices in the order offered, their plain lines on core's Quant; the recommended one from recommend_quant.
QUANT_CHOICES = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "f16")
DEFAULT_QUANT = "q8_0"


class QuantPicker(Card):
    """Pick a quantization; core's recommendation is marked and pre-selected unless the user chose."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Size and quality", parent=parent)
        self.quant_group = QButtonGroup(self)
        self.quant_radios: dict[str, QRadioButton] = {}
        self.quant_notes: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        for i, name in enumerate(QUANT_CHOICES):
            radio = QRadioButton(name)
            self.quant_group.addButton(radio)
            self.quant_radios[name] = radio
            grid.addWidget(radio, i, 0, Qt.AlignmentFlag.AlignTop)
            self.quant_notes[name] = help_label(QUANTS[name].help)
            grid.addWidget(self.quant_notes[name], i, 1)
        grid.setColumnStretch(1, 1)
        self.body.addLayout(grid)
        self.recommend_label = help_label("")
        self.body.addWidget(self.recommend_label)

    @property
    def quant(self) -> str:
        return next((n for n, r in self.quant_radios.items() if r.isChecked()), DEFAULT_QUANT)

    def clear_choice(self, note: str) -> None:
        """A new run: forget the checked choice (it gets its own recommendation) and say what is happening."""
        checked = self.quant_group.checkedButton()
        if checked is not None:
            self.quant_group.setExclusive(False)
            checked.setChecked(False)
            self.quant_group.setExclusive(True)
        self.recommend_label.setText(note)

    def show_recommendation(self, recommended: str, reason: str, avoid: dict[str, str] | None = None) -> None:
        """Mark the recommended choice; the ones in `avoid` (name: why) are greyed out with their reason."""
        avoid = avoid or {}
        for name, radio in self.quant_radios.items():
            radio.setText(f"{name}  (recommended)" if name == recommended else name)
            radio.setEnabled(name not in avoid)
            self.quant_notes[name].setText(avoid.get(name, QUANTS[name].help))
            self.quant_notes[name].setEnabled(name not in avoid)
        checked = self.quant_group.checkedButton()
        if checked is not None and not checked.isEnabled():
            self.clear_choice("")  # a choice kept from another run that does not suit this model
        if recommended in self.quant_radios and not self.quant_group.checkedButton():
            self.quant_radios[recommended].setChecked(True)  # never overrides a choice the user made
        self.recommend_label.setText(f"Recommended: {recommended}. {reason}".strip())
