"""The memory estimate against this machine, with a plain verdict: fits, or does not and what to change.

The numbers come from the core (`tunedesk doctor --json`, which runs `select_preset` and `estimate_memory`
in a subprocess); this widget only words them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from tunedesk.ui.style import set_role


def _first_number(d: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = d.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def _gb(mb: float) -> str:
    return f"{mb / 1024:.1f} GB"


class EstimateView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.verdict = QLabel("Memory estimate: pick a model and data first.")
        set_role(self.verdict, "help")
        self.verdict.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        set_role(self.detail, "help")
        self.reasons = QLabel()
        self.reasons.setWordWrap(True)
        set_role(self.reasons, "help")
        for w in (self.verdict, self.detail, self.reasons):
            layout.addWidget(w)
        self.fits: bool | None = None

    def set_busy(self, text: str = "Estimating memory for this machine…") -> None:
        self.verdict.setText(text)
        set_role(self.verdict, "help")
        self.detail.clear()

    def set_estimate(self, estimate: dict[str, Any] | None, reasons: list[str] | None = None) -> None:
        self.reasons.setText("\n".join(f"• {r}" for r in (reasons or [])))
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
        self.detail.setText(amount + (f" {estimate['note']}" if estimate.get("note") else ""))
