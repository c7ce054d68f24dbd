"""Number fields that read the way people write numbers: "3" epochs rather than "3.000", a share as "10 %".

`ShareSpinBox` shows a 0..1 share as a percentage, as the Data page does, while `share()` and `set_share()`
speak the preset's 0..1 value, so what is written to a run keeps its meaning (10 % is 0.1).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QWidget


class PlainDoubleSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox without trailing zeros: 3 -> "3", 2.5 -> "2.5" (typing keeps its decimals)."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt's name
        text = self.locale().toString(value, "f", self.decimals())
        point = self.locale().decimalPoint()
        if point in text:
            text = text.rstrip("0").removesuffix(point)
        return text


class ShareSpinBox(PlainDoubleSpinBox):
    """A share of 0..1, shown and typed as 0..100 %."""

    def __init__(self, share: float = 0.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(1)  # 0.5 % steps can be typed; whole percentages show without ".0"
        self.setRange(0.0, 100.0)
        self.setSingleStep(1.0)
        self.setSuffix(" %")
        self.set_share(share)

    def share(self) -> float:
        # Rounded so 7 % is 0.07, not 0.07000000000000001: the preset shows what the field shows.
        return round(self.value() / 100.0, self.decimals() + 2)

    def set_share(self, share: float) -> None:
        self.setValue(float(share) * 100.0)
