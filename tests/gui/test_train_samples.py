"""Sample answers on the Train page: the latest check's prompts all in view, earlier checks kept apart."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui

PROMPTS = [
    "My printer keeps jamming when I print double-sided. What should I do?",
    "The app crashes when I open the settings page on my phone.",
    "How do I reset my password if I no longer have access to my email?",
]


def _check(step: int) -> dict:
    answer = (
        "Category: hardware. Priority: medium. Check the duplex unit and the paper type; I hope it helps."
    )
    samples = [
        {"prompt": p, "reference": "Category and priority.", "answer": f"{answer} ({step})"} for p in PROMPTS
    ]
    return {"event": "eval", "step": step, "val_loss": 2.0, "samples": samples}


def test_the_latest_checks_prompts_are_all_in_view_at_1440x900(qtbot, window):
    monitor = window.train_page.monitor
    for event in ({"event": "started", "total_steps": 60}, _check(20), _check(40), _check(60)):
        monitor.add_event(event)
    window.resize(1440, 900)
    assert window.go_to("train")
    monitor.tabs.setCurrentWidget(monitor.samples)
    table = monitor.samples.table
    qtbot.waitUntil(lambda: table.rowHeight(0) > 0 and table.isVisible())
    qtbot.wait(100)  # the rows are fitted after the layout pass
    QApplication.processEvents()
    # The latest check only, newest first in the list; the earlier ones are one pick away, not piled up.
    assert monitor.samples.steps() == [60, 40, 20]
    assert table.rowCount() == len(PROMPTS)
    assert all(a.endswith("(60)") for a in monitor.samples.answers())
    assert "step 60" in monitor.tabs.tabText(monitor.tabs.indexOf(monitor.samples))
    # Every prompt in view, without scrolling, and each answer at least three lines tall.
    assert table.verticalScrollBar().maximum() == 0
    bottom = table.rowViewportPosition(len(PROMPTS) - 1) + table.rowHeight(len(PROMPTS) - 1)
    assert bottom <= table.viewport().height()
    assert min(table.rowHeight(r) for r in range(len(PROMPTS))) >= 3 * table.fontMetrics().lineSpacing()

    monitor.samples.check.setCurrentIndex(2)  # an earlier check, picked from the list
    assert all(a.endswith("(20)") for a in monitor.samples.answers())
    monitor.add_event(_check(80))  # a new check while an earlier one is read: the reader keeps it
    assert all(a.endswith("(20)") for a in monitor.samples.answers())
    monitor.samples.check.setCurrentIndex(0)
    assert all(a.endswith("(80)") for a in monitor.samples.answers())
    monitor.add_event(_check(100))  # on the latest: the view follows the newest check
    assert all(a.endswith("(100)") for a in monitor.samples.answers())
    assert table.rowCount() == len(PROMPTS)


def test_a_cut_answer_ends_on_a_whole_line_and_keeps_its_text(qtbot, window):
    """On a small screen rows share the height: whole lines each (Qt draws a line's top half otherwise)."""
    monitor = window.train_page.monitor
    long = _check(10)
    for sample in long["samples"]:
        sample["answer"] = "word " * 300
    monitor.add_event(long)
    window.resize(1024, 640)
    assert window.go_to("train")
    monitor.tabs.setCurrentWidget(monitor.samples)
    table = monitor.samples.table
    qtbot.wait(150)
    QApplication.processEvents()
    line = table.fontMetrics().lineSpacing()
    for r in range(table.rowCount()):
        assert (table.rowHeight(r) - line // 4) % line == 0
        assert table.item(r, 2).toolTip() == "word " * 300
