"""A theme switch recolours everything at once: the plots (pyqtgraph paints its own) and the stylesheet."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication

from tunedesk.ui.plot_theme import plot_colors

pytestmark = pytest.mark.gui


def _plot_backgrounds(window) -> set[str]:  # type: ignore[no-untyped-def]
    plots = window.findChildren(pg.PlotWidget)
    assert len(plots) >= 3  # the Train page's curves and the Data page's histogram at least
    return {p.backgroundBrush().color().name() for p in plots}


def test_switching_theme_recolours_every_plot_and_the_focus_ring(qtbot, window):
    window.set_theme("dark")
    # The plots are made on first need, after the switch here: they take the theme of that moment.
    loss_axis = window.train_page.curves.loss_plot.getAxis("left")
    window.data_page.histogram.set_bins([0, 10, 20], [3, 1], seq_len=15)
    assert _plot_backgrounds(window) == {plot_colors(True)[0]}
    sheet = QApplication.instance().styleSheet()
    assert "#24365c" in sheet  # the selected model row: a dark tint, its text stays light
    assert "QPushButton:focus" in sheet and "#f0a63c" in sheet  # an amber focus ring, not the faint default
    assert loss_axis.textPen().color().name() == plot_colors(True)[1]
    window.set_theme("light")
    assert _plot_backgrounds(window) == {plot_colors(False)[0]}
    assert loss_axis.textPen().color().name() == plot_colors(False)[1]
    assert "#c2410c" in QApplication.instance().styleSheet()
