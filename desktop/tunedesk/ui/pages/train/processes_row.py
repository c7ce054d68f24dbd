"""The Train page's "Processes" row: train one run on several GPUs together (shown only with 2+ GPUs)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QWidget

from tunedesk.ui.style import set_role

HELP = (
    "Train on several GPUs at once, one process each: the batch size is per GPU, so each update reads that "
    "many times more examples. QLoRA trains on one GPU."
)


class ProcessesRow(QWidget):
    """A spin box from 1 to the number of CUDA GPUs in the probed hardware; hidden below two GPUs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Processes (GPUs)")
        self.spin = QSpinBox()
        self.spin.setRange(1, 1)
        self.spin.setToolTip(HELP)
        hint = QLabel(HELP)
        hint.setWordWrap(True)
        set_role(hint, "help")
        row.addWidget(label)
        row.addWidget(self.spin)
        row.addWidget(hint, 1)
        self.set_hardware(None)

    def set_hardware(self, hw: dict[str, Any] | None) -> None:
        gpus = len((hw or {}).get("cuda") or [])
        self.spin.setRange(1, max(1, gpus))
        self.setVisible(gpus > 1)

    def processes(self) -> int:
        return 1 if self.isHidden() else self.spin.value()
