"""How long to train, chosen before Start: "Quick try, about 3 min" or "Full, about 18 min".

The lengths and times are the core's (core/presets/duration.py, via `tunedesk doctor --json`); a choice only
sets the preset's max_steps (0: the data's own length, its epochs). A max_steps typed under the advanced
settings shows as "Your own length".
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QLabel, QRadioButton, QVBoxLayout, QWidget

from tunedesk.core.formatting import about_duration
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.help_label import help_label


class RunLength(QWidget):
    """Signals:
    chosen(int): the max_steps of the length the user picked (0 for the full length).
    """

    chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        heading = QLabel("How long")
        set_role(heading, "heading")
        layout.addWidget(heading)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for key, text in (("quick", "Quick try"), ("full", "Full"), ("custom", "Your own length")):
            button = QRadioButton(text)
            self.buttons[key] = button
            self.group.addButton(button)
            layout.addWidget(button)
            button.clicked.connect(lambda _=False, k=key: self._on_clicked(k))
        self.buttons["custom"].setEnabled(False)  # set under advanced settings (Max steps)
        self.source = help_label("Time estimate: once the settings for this machine are chosen.")
        layout.addWidget(self.source)
        self.steps: dict[str, int] = {}
        self.max_steps = 0

    def set_estimate(self, duration: dict[str, Any] | None, max_steps: int) -> None:
        """The core's DurationEstimate (as JSON) and the preset's current max_steps."""
        self.max_steps = max_steps
        choices = {c["key"]: c for c in (duration or {}).get("choices", []) if isinstance(c, dict)}
        self.steps = {k: int(c["max_steps"]) for k, c in choices.items()}
        for key in ("quick", "full"):
            c = choices.get(key)
            button = self.buttons[key]
            button.setVisible(c is not None or key == "full")
            button.setText(
                f"{c['label']}, {about_duration(c['seconds'])} ({c['max_steps']} steps)" if c else "Full"
            )
        if "full" not in choices and "quick" in choices:  # short data: one length only, quick is all of it
            self.steps["full"] = self.steps["quick"]
            self.buttons["quick"].setVisible(False)
            self.buttons["full"].setText(self.buttons["quick"].text().replace("Quick try", "Full", 1))
        self.source.setText(str((duration or {}).get("source") or "No time estimate yet."))
        self._show_choice()

    def set_max_steps(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self._show_choice()

    def choice(self) -> str:
        if self.max_steps <= 0:
            return "full"
        if self.steps.get("quick") == self.max_steps and self.buttons["quick"].isVisible():
            return "quick"
        return "custom"

    def _show_choice(self) -> None:
        key = self.choice()
        self.buttons["custom"].setVisible(key == "custom")
        self.buttons["custom"].setText(f"Your own length ({self.max_steps} steps)")
        self.buttons[key].setChecked(True)

    def _on_clicked(self, key: str) -> None:
        steps = 0 if key == "full" else self.steps.get(key, 0)
        self.max_steps = steps
        self._show_choice()
        self.chosen.emit(steps)
