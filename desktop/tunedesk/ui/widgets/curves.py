"""Loss, validation-loss and learning-rate curves of a run, drawn from its protocol events; for a preference
(DPO) run also the share of held-out pairs whose chosen answer the model prefers, and the reward margin.

The same `add_event` feeds a live run (events from the worker) and a past one (`load_events` over its
events.jsonl), so what a user sees during training is exactly what the Runs page redraws later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from tunedesk.ui.style import LR_COLOR, TRAIN_COLOR, VAL_COLOR, is_dark

REDRAW_MS = 150  # a burst of step events is drawn once, not once per event


class _ScientificAxis(pg.AxisItem):
    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [f"{v * scale:.1e}" if v else "0" for v in values]


class TrainingCurves(QWidget):
    """Plots side by side against the step: loss (training and validation), learning rate, and for DPO runs
    (events with `preference_accuracy`) a third: held-out preference accuracy and the training reward margin."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        dark = is_dark()
        fg = "#c8cad0" if dark else "#4a4e55"
        bg = "#26282d" if dark else "#ffffff"
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        self.loss_plot = self._plot("Loss", bg, fg)
        # Learning rates are ~1e-4: scientific tick labels ("1.5e-04") instead of "0.00015".
        self.lr_plot = self._plot("Learning rate", bg, fg, {"left": _ScientificAxis("left")})
        self.loss_plot.addLegend(offset=(-10, 10), labelTextColor=fg)
        self.train_curve = self.loss_plot.plot([], [], name="training", pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.val_curve = self.loss_plot.plot(
            [],
            [],
            name="validation",
            pen=pg.mkPen(VAL_COLOR, width=2),
            symbol="o",
            symbolSize=7,
            symbolBrush=VAL_COLOR,
            symbolPen=None,
        )
        self.lr_curve = self.lr_plot.plot([], [], pen=pg.mkPen(LR_COLOR, width=2))
        self.preference_plot = self._plot("Preference (DPO)", bg, fg)
        self.preference_plot.addLegend(offset=(-10, 10), labelTextColor=fg)
        self.accuracy_curve = self.preference_plot.plot(
            [], [], name="held-out accuracy", pen=pg.mkPen(VAL_COLOR, width=2), symbol="o", symbolSize=7,
            symbolBrush=VAL_COLOR, symbolPen=None,
        )  # fmt: skip
        self.margin_curve = self.preference_plot.plot(
            [], [], name="reward margin", pen=pg.mkPen(TRAIN_COLOR, width=2)
        )
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.lr_plot, 2)
        layout.addWidget(self.preference_plot, 3)
        self.preference_plot.hide()  # shown by the first event that carries a preference number
        self.train_points: list[tuple[int, float]] = []
        self.val_points: list[tuple[int, float]] = []
        self.lr_points: list[tuple[int, float]] = []
        self.accuracy_points: list[tuple[int, float]] = []
        self.margin_points: list[tuple[int, float]] = []
        self.total_steps = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)

    @staticmethod
    def _plot(
        title: str, bg: str, fg: str, axis_items: dict[str, pg.AxisItem] | None = None
    ) -> pg.PlotWidget:
        plot = pg.PlotWidget(background=bg, axisItems=axis_items)
        plot.setTitle(title, color=fg, size="10pt")
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "step", color=fg)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(fg))
            axis.setTextPen(pg.mkPen(fg))
        plot.setMenuEnabled(False)
        plot.setMinimumHeight(130)
        plot.getAxis("bottom").enableAutoSIPrefix(False)  # steps are whole numbers: never "x0.001"
        return plot

    def clear(self) -> None:
        self.total_steps = 0
        for plot in (self.loss_plot, self.lr_plot, self.preference_plot):
            plot.enableAutoRange()
        for points in self._all_points():
            points.clear()
        self.preference_plot.hide()
        self.redraw()

    def _all_points(self) -> list[list[tuple[int, float]]]:
        return [self.train_points, self.val_points, self.lr_points, self.accuracy_points, self.margin_points]

    def add_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        total = event.get("total_steps")
        if isinstance(total, int) and total > 0 and total != self.total_steps:
            # The whole run's width from the start: the curve grows across the plot instead of rescaling.
            self.total_steps = total
            for plot in (self.loss_plot, self.lr_plot, self.preference_plot):
                plot.setXRange(0, total, padding=0.02)
        if event.get("preference_accuracy") is not None and self.preference_plot.isHidden():
            self.preference_plot.show()
        if kind == "step":
            self._add(self.train_points, event.get("step"), event.get("loss"))
            self._add(self.lr_points, event.get("step"), event.get("learning_rate"))
            self._add(self.margin_points, event.get("step"), event.get("reward_margin"))
        elif kind == "eval":
            self._add(self.val_points, event.get("step"), event.get("val_loss"))
            self._add(self.accuracy_points, event.get("step"), event.get("preference_accuracy"))
        elif kind == "started" and event.get("resumed_from_step"):
            # A resumed run repeats the steps after its checkpoint: drop what the crash cut short.
            cut = int(event["resumed_from_step"])
            for points in self._all_points():
                points[:] = [p for p in points if p[0] <= cut]
        else:
            return
        if not self._timer.isActive():
            self._timer.start()

    def load_events(self, events: Iterable[dict[str, Any]]) -> None:
        """Replace the curves with a run's history (its events.jsonl)."""
        self.clear()
        for event in events:
            self.add_event(event)
        self._timer.stop()
        self.redraw()

    @staticmethod
    def _add(points: list[tuple[int, float]], step: Any, value: Any) -> None:
        # A diverged loss arrives as null (protocol._finite): it leaves a gap, not a crash.
        if isinstance(step, (int, float)) and isinstance(value, (int, float)):
            points.append((int(step), float(value)))

    def redraw(self) -> None:
        for curve, points in (
            (self.train_curve, self.train_points),
            (self.val_curve, self.val_points),
            (self.lr_curve, self.lr_points),
            (self.accuracy_curve, self.accuracy_points),
            (self.margin_curve, self.margin_points),
        ):
            curve.setData([p[0] for p in points], [p[1] for p in points])
