"""The plots' colours for the light and dark themes, applied when a plot is made and again on a theme switch.

pyqtgraph paints its own background and axes (the palette and stylesheet do not reach them), so a theme
switch walks every plot in the app and recolours it: no plot stays white in the dark theme until a restart.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtWidgets import QApplication


def plot_colors(dark: bool) -> tuple[str, str]:
    """(background, foreground: axes, ticks, titles and legend text)."""
    return ("#26282d", "#c8cad0") if dark else ("#ffffff", "#4a4e55")


def style_plot(plot: Any, dark: bool) -> None:
    """Colour one pg.PlotWidget for the theme."""
    import pyqtgraph as pg

    bg, fg = plot_colors(dark)
    plot.setBackground(bg)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(fg))
        axis.setTextPen(pg.mkPen(fg))
        if axis.labelText:
            axis.setLabel(axis.labelText, units=axis.labelUnits, color=fg)
    title = item.titleLabel
    if title.text:
        title.setText(title.text, color=fg)
    if item.legend is not None:
        item.legend.setLabelTextColor(fg)  # for entries added later; the existing ones are re-set here
        for _sample, label in item.legend.items:
            label.setText(label.text, color=fg)


def restyle_all_plots(dark: bool) -> int:
    """Recolour every plot the app has made; returns how many."""
    pg = sys.modules.get("pyqtgraph")
    if pg is None:
        return 0  # no plot made yet (they are made on first show): each takes the theme when it is made
    plots = [w for w in QApplication.allWidgets() if isinstance(w, pg.PlotWidget)]
    for plot in plots:
        style_plot(plot, dark)
    return len(plots)
