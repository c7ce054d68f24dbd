"""A small laptop screen (1024x640): no page scrolls sideways, and no one-line label is cut short.

Each page sits in a scroll area (main_window.py): a page whose parts need more width than the screen shows a
sideways scroll bar, as the Data page's buttons and the Chat page's long model name once did.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea

from tunedesk.core.paths import sample_dataset
from tunedesk.ui.app_state import PAGE_NAMES

pytestmark = pytest.mark.gui


def _cut_labels(page) -> list[str]:  # noqa: ANN001
    """Visible one-line labels narrower than their text (word-wrapped ones grow downwards instead)."""
    cut = []
    for label in page.findChildren(QLabel):
        if not label.isVisible() or label.wordWrap() or not label.text().strip():
            continue
        if label.width() + 1 < label.sizeHint().width():
            cut.append(f"{label.text()[:40]!r} {label.width()} < {label.sizeHint().width()}")
    return cut


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_fits_1024x640_without_sideways_scrolling(qtbot, window, starter_gguf, theme) -> None:
    window.set_theme(theme)
    window.state.set_model_ref("starter")
    window.state.set_data_path(str(sample_dataset()))
    window.chat_page.set_model(str(starter_gguf))  # the longest name a page shows without wrapping
    window.resize(1024, 640)
    problems = {}
    for index, name in enumerate(PAGE_NAMES):
        window.stack.setCurrentIndex(index)
        qtbot.wait(200)
        QApplication.processEvents()
        scroll = window.stack.currentWidget()
        assert isinstance(scroll, QScrollArea)
        sideways = scroll.horizontalScrollBar().maximum()
        cut = _cut_labels(scroll.widget())
        if sideways or cut:
            problems[name] = {"sideways_px": sideways, "cut_labels": cut}
    assert window.width() == 1024 and not problems, problems
