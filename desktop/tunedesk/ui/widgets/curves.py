"""Loss, validation-loss and learning-rate curves of a run, drawn from its protocol events; for a preference
(DPO) run also the share of held-out pairs whose chosen answer the model prefers, and the reward margin on the
training steps and on the held-out pairs.

The same `add_event` feeds a live run (events from the worker) and a past one (`load_events` over its
events.jsonl), so what a user sees during training is exactly what the Runs page redraws later.

The plots themselves (pyqtgraph: a third of a second to import, as much again to build) are made when the widget
is first shown or a plot is first asked for, not at start-up: until then the points are only collected.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QWidget

from tunedesk.ui.style import LR_COLOR, TRAIN_COLOR, VAL_COLOR, is_dark

REDRAW_MS = 150  # a burst of step events is drawn once, not once per event


# What the plots are made of, made on first need (see the module's docstring).
_PLOT_PARTS = frozenset(
    (
        "loss_plot",
        "lr_plot",
        "preference_plot",
        "train_curve",
        "val_curve",
        "lr_curve",
        "accuracy_curve",
        "margin_curve",
        "val_margin_curve",
    )
)


def _scientific_axis(orientation: str) -> Any:
    """Learning rates are ~1e-4: scientific tick labels ("1.5e-04") instead of "0.00015"."""
    import pyqtgraph as pg

    class ScientificAxis(pg.AxisItem):
        def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
            return [f"{v * scale:.1e}" if v else "0" for v in values]

    return ScientificAxis(orientation)


def _legend_in_title_row(plot: Any, fg: str, rows: int = 1) -> None:
    """The legend at the right of the title row (the title moves left), above the data: inside the plot it hid
    the validation points of any curve that ends high (a flat or rising validation loss is in the top-right).
    A legend of `rows` rows (two entries a row) gets a title row tall enough for it."""
    item = plot.getPlotItem()
    if rows > 1:
        item.layout.setRowFixedHeight(0, 30 + 16 * (rows - 1))  # pyqtgraph's title row is 30 px
    legend = item.addLegend(
        offset=None, labelTextColor=fg, colCount=2, frame=False, verSpacing=-6, labelTextSize="8pt"
    )
    legend.layout.setContentsMargins(0, 0, 0, 0)
    legend.setParentItem(item)  # anchored to the whole plot, not its data area (the view box)
    legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-4, 2))


class TrainingCurves(QWidget):
    """Plots side by side against the step: loss (training and validation), learning rate, and for DPO runs
    (events with `preference_accuracy`) a third: held-out preference accuracy, and the reward margin of the
    training steps and of the held-out pairs (a training margin that grows while the held-out one does not is
    memorising)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(12)
        self.setMinimumHeight(130)  # the plots' height, so the page's layout does not jump when they appear
        self._built = False
        self._show_preference = False
        self.train_points: list[tuple[int, float]] = []
        self.val_points: list[tuple[int, float]] = []
        self.lr_points: list[tuple[int, float]] = []
        self.accuracy_points: list[tuple[int, float]] = []
        self.margin_points: list[tuple[int, float]] = []
        self.val_margin_points: list[tuple[int, float]] = []
        self.total_steps = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: a plot part asked for before the plots were made.
        if name in _PLOT_PARTS and not self.__dict__.get("_built", True):
            self._build_plots()
            return getattr(self, name)
        raise AttributeError(name)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        self._build_plots()
        super().showEvent(event)

    def _build_plots(self) -> None:
        if self._built:
            return
        self._built = True
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True)
        dark = is_dark()
        fg = "#c8cad0" if dark else "#4a4e55"
        bg = "#26282d" if dark else "#ffffff"
        self.loss_plot = self._plot("Loss", bg, fg)
        self.lr_plot = self._plot("Learning rate", bg, fg, {"left": _scientific_axis("left")})
        _legend_in_title_row(self.loss_plot, fg)
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
        # Short names: the title row holds the title and the legend side by side; the tooltip says it in full.
        self.preference_plot = self._plot("DPO", bg, fg)
        self.preference_plot.setToolTip(
            "Preference training (DPO). accuracy: the share of held-out pairs whose chosen answer the model "
            "prefers; margin: how much more it prefers the chosen answer while training (the reward margin); held-out "
            "margin: the same on pairs it never trained on."
        )
        _legend_in_title_row(self.preference_plot, fg, rows=2)  # three curves, two a row
        self.accuracy_curve = self.preference_plot.plot(
            [], [], name="accuracy", pen=pg.mkPen(VAL_COLOR, width=2), symbol="o", symbolSize=7,
            symbolBrush=VAL_COLOR, symbolPen=None,
        )  # fmt: skip
        self.margin_curve = self.preference_plot.plot(
            [], [], name="margin", pen=pg.mkPen(TRAIN_COLOR, width=2)
        )
        self.val_margin_curve = self.preference_plot.plot(
            [], [], name="held-out margin", pen=pg.mkPen(VAL_COLOR, width=2, style=Qt.PenStyle.DashLine),
            symbol="t", symbolSize=7, symbolBrush=VAL_COLOR, symbolPen=None,
        )  # fmt: skip
        self._layout.addWidget(self.loss_plot, 3)
        self._layout.addWidget(self.lr_plot, 2)
        self._layout.addWidget(self.preference_plot, 3)
        self.preference_plot.setVisible(self._show_preference)  # shown by the first preference number
        self._set_x_range()
        self.redraw()

    def _set_x_range(self) -> None:
        # The whole run's width from the start: the curve grows across the plot instead of rescaling.
        if self._built and self.total_steps > 0:
            for plot in (self.loss_plot, self.lr_plot, self.preference_plot):
                plot.setXRange(0, self.total_steps, padding=0.02)

    @staticmethod
    def _plot(title: str, bg: str, fg: str, axis_items: dict[str, Any] | None = None) -> Any:
        import pyqtgraph as pg

        plot = pg.PlotWidget(background=bg, axisItems=axis_items)
        plot.setTitle(title, color=fg, size="10pt", justify="left")  # the legend is on the right of its row
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
        for points in self._all_points():
            points.clear()
        self._set_preference(False)
        if self._built:
            for plot in (self.loss_plot, self.lr_plot, self.preference_plot):
                plot.enableAutoRange()
        self.redraw()

    def _set_preference(self, shown: bool) -> None:
        self._show_preference = shown
        if self._built:
            self.preference_plot.setVisible(shown)

    def _all_points(self) -> list[list[tuple[int, float]]]:
        return [
            self.train_points,
            self.val_points,
            self.lr_points,
            self.accuracy_points,
            self.margin_points,
            self.val_margin_points,
        ]

    def add_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        total = event.get("total_steps")
        if isinstance(total, int) and total > 0 and total != self.total_steps:
            self.total_steps = total
            self._set_x_range()
        if event.get("preference_accuracy") is not None and not self._show_preference:
            self._set_preference(True)
        if kind == "step":
            self._add(self.train_points, event.get("step"), event.get("loss"))
            self._add(self.lr_points, event.get("step"), event.get("learning_rate"))
            self._add(self.margin_points, event.get("step"), event.get("reward_margin"))
        elif kind == "eval":
            self._add(self.val_points, event.get("step"), event.get("val_loss"))
            self._add(self.accuracy_points, event.get("step"), event.get("preference_accuracy"))
            self._add(self.val_margin_points, event.get("step"), event.get("reward_margin"))
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
        if not self._built:
            return  # drawn from the points when the plots are made
        for curve, points in (
            (self.train_curve, self.train_points),
            (self.val_curve, self.val_points),
            (self.lr_curve, self.lr_points),
            (self.accuracy_curve, self.accuracy_points),
            (self.margin_curve, self.margin_points),
            (self.val_margin_curve, self.val_margin_points),
        ):
            curve.setData([p[0] for p in points], [p[1] for p in points])
