"""The Machine page's consent for a model TuneDesk refuses by default: pickle weights, or its own Python code.

Shown only for such a model: the refusal in plain words, one line per risk (core's CONSENT_RISKS), and a box
that starts unchecked for every model. What it allows is for the model it was ticked for alone (AppState keeps
it by model); runs started from the Train page record it in their config.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFrame, QLabel, QVBoxLayout, QWidget

from tunedesk.core.models.source import CONSENT_RISKS
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.help_label import help_label

# What the box allows, for each consent the model needs.
ALLOWS = {"allow_pickle": "allow code in its weights (pickle)", "trust_remote_code": "run its own code"}


class ConsentBox(QFrame):
    """Signals:
    toggled(bool): the user gave (True) or withdrew (False) consent for the model shown.
    """

    toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "banner-error")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        self.refusal = QLabel()
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet("font-weight: 600;")
        layout.addWidget(self.refusal)
        self.risks = QLabel()
        self.risks.setWordWrap(True)
        layout.addWidget(self.risks)
        self.checkbox = QCheckBox()
        self.checkbox.toggled.connect(self.toggled)
        layout.addWidget(self.checkbox)
        self.status = help_label("")
        layout.addWidget(self.status)
        self.setVisible(False)

    def show_for(self, needs: list[str], given: bool) -> None:
        """The consent a model needs (keys of CONSENT_RISKS; none: hidden) and whether it was given."""
        self.setVisible(bool(needs))
        if not needs:
            return
        self.refusal.setText(
            "TuneDesk does not train this model unless you allow it: it can run code on this computer."
        )
        self.risks.setText("\n".join(f"• {CONSENT_RISKS[n]}" for n in needs))
        self.checkbox.setText("I trust this model's files: " + " and ".join(ALLOWS[n] for n in needs))
        self.checkbox.blockSignals(True)  # showing a model's state is not the user changing it
        self.checkbox.setChecked(given)
        self.checkbox.blockSignals(False)
        self.show_status(given)

    def show_status(self, given: bool) -> None:
        self.status.setText(
            "Allowed for this model only; runs you start with it record that you allowed it."
            if given
            else "Off: tick it only if you trust where this model came from."
        )
