"""The Data page's validation-split card: the share of examples held out for validation, and the seed."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from tunedesk.core.presets.preset import Preset
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label


class SplitSettings(Card):
    """`val_share` (percent) and `seed`, each with the preset field's help; the page writes them to the preset."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Validation split", parent=parent)
        row = QHBoxLayout()
        help_ = Preset.field_help()
        self.val_share = QDoubleSpinBox(decimals=0, minimum=0, maximum=50, singleStep=5, suffix=" %")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        for label, widget, text in (
            ("Validation share", self.val_share, help_["val_fraction"]),
            ("Seed", self.seed, help_["seed"]),
        ):
            col = QVBoxLayout()
            line = QHBoxLayout()
            line.addWidget(QLabel(label))
            line.addWidget(widget)
            line.addStretch(1)
            col.addLayout(line)
            col.addWidget(help_label(text))
            row.addLayout(col, 1)
        self.body.addLayout(row)

    def show_preset(self, preset: Preset) -> None:
        """Show the preset's split without signalling a change (it is not the user's edit)."""
        for widget, value in ((self.val_share, preset.val_fraction * 100), (self.seed, preset.seed)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)

    def changes(self) -> dict[str, float | int]:
        """The preset fields as edited here, for `apply_overrides`."""
        return {"val_fraction": round(self.val_share.value() / 100, 4), "seed": self.seed.value()}
