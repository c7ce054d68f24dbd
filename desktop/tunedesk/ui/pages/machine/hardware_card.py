"""The Machine page's "This computer" card: core's hardware probe as a summary line and four tiles."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from tunedesk.core.formatting import gb as _gb
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.metric_tile import fact_grid

TILE_NAMES = ("Device", "Memory", "CPU cores", "Free disk")
LOOKING = "Looking at this computer…"


def hardware_facts(hw: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) tiles for a HardwareInfo dict: device, memory, cores, free disk."""
    gpus = hw.get("cuda") or []
    if gpus:
        device = gpus[0]["name"]
        memory = f"{_gb(gpus[0]['total_mb'])} ({_gb(gpus[0]['free_mb'])} free)"
    elif hw.get("mps"):
        device, memory = "Apple GPU (Metal)", f"{_gb(hw.get('ram_total_mb'))} unified"
    else:
        device = hw.get("cpu_model") or "CPU"
        memory = f"{_gb(hw.get('ram_total_mb'))} RAM ({_gb(hw.get('ram_available_mb'))} free)"
    phys, logical = hw.get("cpu_physical_cores"), hw.get("cpu_logical_cores")
    cores = f"{phys or logical or '?'}" + (
        f" ({logical} threads)" if logical and phys and logical != phys else ""
    )
    return [
        ("Device", device),
        ("Memory", memory),
        ("CPU cores", cores),
        ("Free disk", _gb(hw.get("disk_free_mb"))),
    ]


class HardwareCard(Card):
    """Summary and tiles of one probe; `probe_button` ("Check again") is connected by the page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("This computer", parent=parent)
        self.probe_button = QPushButton("Check again")
        self.header.addWidget(self.probe_button, 0, Qt.AlignmentFlag.AlignTop)
        self.summary = QLabel(LOOKING)
        self.summary.setWordWrap(True)
        set_role(self.summary, "metric")
        self.body.addWidget(self.summary)
        tiles, self.hw_values = fact_grid(TILE_NAMES, placeholder="…")
        self.body.addLayout(tiles)

    def set_probing(self) -> None:
        self.probe_button.setEnabled(False)
        self.summary.setText(LOOKING)

    def set_failed(self) -> None:
        self.probe_button.setEnabled(True)
        self.summary.setText("Could not look at this computer.")

    def show_hardware(self, hw: dict[str, Any]) -> None:
        self.probe_button.setEnabled(True)
        self.summary.setText(hw.get("summary", ""))
        for name, value in hardware_facts(hw):
            self.hw_values[name].setText(value)
