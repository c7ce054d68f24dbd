"""The token-length histogram of a dataset (pyqtgraph), with the training cut-off (seq_len) drawn on it.

It shows what the report's `tokens` block already holds (bin edges and counts from core's quality report);
it computes nothing itself. Rows right of the red line are longer than seq_len and will be cut.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from tunedesk.ui.plot_theme import style_plot
from tunedesk.ui.style import is_dark

BAR_COLOR = "#5b8def"
CUT_COLOR = "#d64545"


class TokenHistogram(QWidget):
    """Bars of "how many examples have about N tokens"; `set_report_tokens` fills it, `clear_data` empties it.

    The plot inside (`plot`, a pg.PlotWidget) is made with the first bars: pyqtgraph stays out of start-up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TokenHistogram")
        self.setMinimumHeight(160)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.plot: Any = None
        self._bars: Any = None
        self._cut: Any = None
        self.counts: list[int] = []
        self.bin_edges: list[float] = []

    def _make_plot(self) -> None:
        import pyqtgraph as pg

        plot = pg.PlotWidget()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        item = plot.getPlotItem()
        item.showGrid(x=False, y=True, alpha=0.15)
        item.setLabel("bottom", "tokens per example")
        item.setLabel("left", "examples")
        self._cut = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(CUT_COLOR, width=2, style=Qt.PenStyle.DashLine),
            label="seq_len",
            labelOpts={"position": 0.9, "color": CUT_COLOR, "anchors": [(1, 0), (1, 0)]},
        )
        self._cut.hide()
        plot.addItem(self._cut)
        style_plot(plot, is_dark())
        self._layout.addWidget(plot)
        self.plot = plot

    def set_report_tokens(self, tokens: dict[str, Any] | None, seq_len: int | None = None) -> None:
        """Show a report's `tokens` block ({bin_edges, counts, ...}); None empties the plot."""
        if not tokens or not tokens.get("counts"):
            self.clear_data()
            return
        self.set_bins(list(tokens["bin_edges"]), list(tokens["counts"]), seq_len)

    def set_bins(self, edges: list[float], counts: list[int], seq_len: int | None = None) -> None:
        if len(edges) != len(counts) + 1:
            raise ValueError("a histogram needs one more edge than counts")
        import pyqtgraph as pg

        self.clear_data()
        if self.plot is None:
            self._make_plot()
        self.bin_edges, self.counts = edges, counts
        lefts = edges[:-1]
        widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
        self._bars = pg.BarGraphItem(
            x0=lefts, width=[w * 0.9 for w in widths], height=counts, brush=BAR_COLOR, pen=pg.mkPen(None)
        )
        self.plot.addItem(self._bars)
        if seq_len:
            self._cut.setValue(seq_len)
            text = f"cut-off {seq_len}"  # seq_len: longer rows are truncated
            self._cut.label.setFormat(text)
            self._cut.label.setText(text)  # setFormat alone skips the update while the plot is hidden
            self._cut.show()
        right = max(edges[-1], (seq_len or 0) * 1.05)
        self.plot.setXRange(edges[0], right, padding=0.02)
        self.plot.setYRange(0, max(counts) * 1.1 or 1, padding=0)

    def clear_data(self) -> None:
        if self._bars is not None:
            self.plot.removeItem(self._bars)
            self._bars = None
        if self._cut is not None:
            self._cut.hide()
        self.counts, self.bin_edges = [], []
