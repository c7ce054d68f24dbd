"""A run at a glance: progress bar, step, tokens/s, time left, memory, best validation loss.

The numbers are core's `RunProgress` (the model the CLI's progress line renders too), fed the worker's events;
this widget only draws it. "Time left" counts down between steps from `RunProgress.time_left()`, so it
freezes while the run is paused and says "done" when it has finished.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from tunedesk.core import status as run_status
from tunedesk.core.formatting import duration, gb
from tunedesk.core.training.callbacks import dispatch_event
from tunedesk.core.training.progress import RunProgress
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.metric_tile import add_metric

METRICS = (
    ("step", "Step"),
    ("speed", "Tokens / s"),
    ("eta", "Time left"),
    ("memory", "Memory"),
    ("val", "Best val loss"),
)
CLOCK_MS = 1000  # "Time left" is redrawn this often while a run is followed


class RunStats(QWidget):
    """`run` (core's RunProgress) drawn as a state line, `progress` (the bar) and `values` (by METRICS key)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = RunProgress()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.state_label = QLabel("Not started")
        set_role(self.state_label, "heading")
        layout.addWidget(self.state_label)
        self.progress = QProgressBar()
        self.progress.setFixedHeight(8)
        layout.addWidget(self.progress)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)  # 24 pushed the page wider than a 1024 px screen
        grid.setVerticalSpacing(0)
        self.values: dict[str, QLabel] = {}
        for col, (key, title) in enumerate(METRICS):
            self.values[key] = add_metric(grid, col, title)
        grid.setColumnStretch(len(METRICS), 1)
        layout.addLayout(grid)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self._show_time_left)
        self.reset()

    def reset(self, state: str = "Not started") -> None:
        self.run = RunProgress()
        self.state_label.setText(state)
        self._render()

    def set_state(self, text: str) -> None:
        self.state_label.setText(text)

    def set_following(self, live: bool) -> None:
        """Count "Time left" down while a worker is followed; a replayed run's clock stands still."""
        if live:
            self._clock.start()
        else:
            self._clock.stop()
        self._show_time_left()

    def add_event(self, ev: dict[str, Any]) -> None:
        dispatch_event(self.run, ev)
        self._render()

    # ---- drawing ----------------------------------------------------------------------------------------
    def _render(self) -> None:
        run = self.run
        total = int(run.total_steps or 0)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(self.progress.maximum() if run.fraction >= 1 else min(run.step, total))
        self.values["step"].setText(
            f"{run.step} / {total}" if total else (str(run.step) if run.step else "–")
        )
        speed = run.tokens_per_second
        self.values["speed"].setText("–" if speed is None else f"{float(speed):,.0f}")
        self.values["memory"].setText(gb(run.memory_mb, unknown="–"))
        best = run.best_so_far  # the step-0 score until a trained step has one: never "-" beside a point
        self.values["val"].setText("–" if best is None else f"{float(best):.3f}")
        self._show_time_left()

    def _show_time_left(self) -> None:
        if self.run.done:
            text = "done" if run_status.is_success(self.run.status) else "–"  # nothing is left to wait for
        else:
            text = duration(self.run.time_left(), unknown="–")
        self.values["eta"].setText(text)
