"""A running run at a glance: progress bar, step, tokens/s, time left, memory, best validation loss."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from tunedesk.core import status as run_status
from tunedesk.core.formatting import duration, gb
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.metric_tile import add_metric

METRICS = (
    ("step", "Step"),
    ("speed", "Tokens / s"),
    ("eta", "Time left"),
    ("memory", "Memory"),
    ("val", "Best val loss"),
)


class RunStats(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.state_label = QLabel("Not started")
        set_role(self.state_label, "heading")
        layout.addWidget(self.state_label)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFixedHeight(8)
        layout.addWidget(self.progress)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(0)
        self.values: dict[str, QLabel] = {}
        for col, (key, title) in enumerate(METRICS):
            self.values[key] = add_metric(grid, col, title)
        grid.setColumnStretch(len(METRICS), 1)
        layout.addLayout(grid)

    def reset(self, state: str = "Not started") -> None:
        self.state_label.setText(state)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        for value in self.values.values():
            value.setText("–")

    def set_state(self, text: str) -> None:
        self.state_label.setText(text)

    def add_event(self, ev: dict[str, Any]) -> None:
        kind = ev.get("event")
        if kind in ("started", "step") and ev.get("total_steps"):
            self.progress.setRange(0, int(ev["total_steps"]))
        if kind == "step":
            step, total = int(ev["step"]), int(ev.get("total_steps") or 0)
            self.progress.setValue(min(step, self.progress.maximum()))
            self.values["step"].setText(f"{step} / {total}" if total else str(step))
            if ev.get("tokens_per_second") is not None:
                self.values["speed"].setText(f"{float(ev['tokens_per_second']):,.0f}")
            if ev.get("eta_seconds") is not None:
                self.values["eta"].setText(duration(float(ev["eta_seconds"]), unknown="–"))
            mem = ev.get("peak_memory_mb") or ev.get("memory_mb")
            if mem is not None:
                self.values["memory"].setText(gb(float(mem)))
        elif kind == "eval":
            best = ev.get("best_val_loss", ev.get("val_loss"))
            if best is not None:
                self.values["val"].setText(f"{float(best):.3f}")
        elif kind == "finished":
            if ev.get("best_val_loss") is not None:
                self.values["val"].setText(f"{float(ev['best_val_loss']):.3f}")
            if run_status.is_success(ev.get("status")):
                self.progress.setValue(self.progress.maximum())
                self.values["eta"].setText("done")
            else:
                self.values["eta"].setText("–")  # nothing is left to wait for
