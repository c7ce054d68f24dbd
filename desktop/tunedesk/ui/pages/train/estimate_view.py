"""The memory estimate against this machine, with a plain verdict: fits, or does not and what to change.

The numbers come from the core (`tunedesk doctor --json`, which runs `select_preset` and `estimate_memory`
in a subprocess); this widget only words them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from tunedesk.core.formatting import gb as _gb
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.help_label import help_label


def _first_number(d: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = d.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


class EstimateView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.verdict = help_label("Memory estimate: pick a model and data first.")
        self.detail = help_label("")
        # The core's reasons for each choice: one click away, so the form stays in view.
        self.why_button = QPushButton("Why these settings?")
        set_role(self.why_button, "link")
        self.why_button.setCheckable(True)
        self.why_button.toggled.connect(lambda shown: self.reasons.setVisible(shown))
        self.why_button.hide()
        self.reasons = help_label("")
        self.reasons.hide()
        for w in (self.verdict, self.detail, self.why_button, self.reasons):
            layout.addWidget(
                w, 0, Qt.AlignmentFlag.AlignLeft if w is self.why_button else Qt.AlignmentFlag(0)
            )
        self.fits: bool | None = None

    def set_busy(self, text: str = "Estimating memory for this machine…") -> None:
        self.verdict.setText(text)
        set_role(self.verdict, "help")
        self.detail.clear()

    def set_estimate(self, estimate: dict[str, Any] | None, reasons: list[str] | None = None) -> None:
        self.reasons.setText("\n".join(f"• {r}" for r in (reasons or [])))
        self.why_button.setVisible(bool(reasons))
        self.reasons.setVisible(bool(reasons) and self.why_button.isChecked())
        if not estimate:
            self.fits = None
            self.verdict.setText("No memory estimate yet.")
            set_role(self.verdict, "help")
            self.detail.clear()
            return
        need = _first_number(estimate, "total_mb", "peak_mb", "need_mb", "required_mb", "estimate_mb")
        have = _first_number(estimate, "available_mb", "budget_mb", "device_mb", "free_mb")
        fits = estimate.get("fits")
        if not isinstance(fits, bool) and need is not None and have is not None:
            fits = need <= have
        self.fits = fits if isinstance(fits, bool) else None
        device = str(estimate.get("device", "") or "")
        where = (
            f" of the {device.upper() if device in ('cpu', 'cuda', 'mps') else device} memory"
            if device
            else ""
        )
        if need is not None and have is not None:
            amount = f"Needs about {_gb(need)} of {_gb(have)} available{where}."
        elif need is not None:
            amount = f"Needs about {_gb(need)}."
        else:
            amount = ""
        if self.fits is True:
            self.verdict.setText("✓ Fits on this machine")
            set_role(self.verdict, "good")
        elif self.fits is False:
            self.verdict.setText("✗ Does not fit: lower batch size or sequence length, or use QLoRA")
            set_role(self.verdict, "bad")
        else:
            self.verdict.setText("Memory estimate")
            set_role(self.verdict, "heading")
        # The core words its own verdict (why, what to change): show it rather than inventing one here.
        verdict = str(estimate.get("verdict") or "")
        self.detail.setText(f"{verdict[:1].upper()}{verdict[1:]}." if verdict else amount)
