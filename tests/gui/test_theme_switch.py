"""A theme switch recolours everything at once: the plots (pyqtgraph paints its own) and the stylesheet."""

from __future__ import annotations

import re

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor, QPalette
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


def _contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1: none, 21: black on white)."""

    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _row_colours(html: str) -> set[str]:
    return set(re.findall(r"color:\s*(#[0-9a-fA-F]{6})", html))


def test_a_model_rows_second_line_is_readable_on_the_selected_row_in_both_themes(qtbot, window):
    models = window.machine_page.models
    entry = {
        "source": {"ref": "/m/tiny", "name": "tiny", "kind": "folder", "path": "/m/tiny"},
        "info": {"params": 135e6, "size_on_disk_mb": 270, "exportable": True},
    }
    models.add_entry(entry)
    label = models.itemWidget(models.item_for("/m/tiny"))
    for theme, selected in (("dark", "#24365c"), ("light", "#eaf1fd"), ("dark", "#24365c")):
        window.set_theme(theme)
        qtbot.waitUntil(lambda s=selected: s in QApplication.instance().styleSheet())
        qtbot.wait(50)  # the rows are recoloured once the theme is in place
        colours = _row_colours(label.text())
        assert colours, label.text()
        for colour in colours:  # the kind and the details line, on the selected row's tint
            assert _contrast(QColor(colour), QColor(selected)) >= 4.5, (theme, colour)


def test_the_data_files_marked_line_is_readable_in_both_themes(qtbot, window):
    preview = window.data_page.tabs
    preview.show_data([], ["{}", '{"messages": 3}', "{}"])
    for theme in ("dark", "light", "dark"):
        window.set_theme(theme)
        preview.go_to_line(2)
        qtbot.wait(50)
        marks = preview.raw.extraSelections()
        assert len(marks) == 1 and marks[0].cursor.blockNumber() == 1
        text = preview.raw.palette().color(QPalette.ColorRole.Text)
        background = marks[0].format.background().color()
        assert _contrast(text, background) >= 4.5, (theme, background.name())
    window.set_theme("light")  # switching theme recolours a line marked before
    qtbot.wait(50)
    marks = preview.raw.extraSelections()  # held: the selections' formats live as long as this list
    background = marks[0].format.background().color()
    assert background.lightness() > 200, background.name()
