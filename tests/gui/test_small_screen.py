"""A small laptop screen (1024x640): no page scrolls sideways, and no one-line label is cut short.

Each page sits in a scroll area (main_window.py): a page whose parts need more width than the screen shows a
sideways scroll bar, as the Data page's buttons and the Chat page's long model name once did.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QScrollArea, QWidget

from tunedesk.core.paths import sample_dataset
from tunedesk.ui.app_state import PAGE_NAMES

pytestmark = pytest.mark.gui


def _cut_labels(page) -> list[str]:  # noqa: ANN001
    """Visible labels cut short: one-line ones narrower than their text (word-wrapped ones grow downwards
    instead), and any squeezed below the height of a line."""
    cut = []
    for label in page.findChildren(QLabel):
        if not label.isVisible() or not label.text().strip():
            continue
        hint = label.minimumSizeHint()
        if not label.wordWrap() and label.width() + 1 < label.sizeHint().width():
            cut.append(f"{label.text()[:40]!r} width {label.width()} < {label.sizeHint().width()}")
        if label.height() + 1 < hint.height():
            cut.append(f"{label.text()[:40]!r} height {label.height()} < {hint.height()}")
    return cut


def _overlapping(page) -> list[str]:  # noqa: ANN001
    """Labels and buttons drawn over one another: a layout squeezed below what its rows need."""
    seen = []
    for widget in page.findChildren(QWidget):
        if not isinstance(widget, (QLabel, QAbstractButton)) or not widget.isVisible():
            continue
        shown = widget.visibleRegion().boundingRect()  # what a scroll area's viewport lets through
        if not shown.isEmpty():
            seen.append((widget, shown.translated(widget.mapTo(page, QPoint(0, 0)))))
    clashes = []
    for i, (a, ra) in enumerate(seen):
        for b, rb in seen[i + 1 :]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            overlap = ra.intersected(rb)
            if overlap.width() > 2 and overlap.height() > 2:
                clashes.append(f"{_name(a)} over {_name(b)}")
    return clashes


def _name(widget) -> str:  # noqa: ANN001
    text = widget.text() if hasattr(widget, "text") else ""
    return f"{type(widget).__name__}({text[:24]!r})"


def _exported_run(root: Path) -> Path:
    """A run folder, deep in long-named folders, whose export finished: the Export page shows its file."""
    from tunedesk.core.presets.preset import Preset
    from tunedesk.core.protocol import EventWriter
    from tunedesk.core.runs import RunConfig, create_run

    folder = (
        root / "my-fine-tuning-projects" / "customer-support-summaries" / "20261201-045511-support-tickets"
    )
    run = create_run(RunConfig(model="starter", data="notes.jsonl", preset=Preset()), folder).root
    out = run / "export"
    out.mkdir()
    gguf = out / "20261201-045511-support-tickets-q8_0.gguf"
    gguf.write_bytes(b"GGUF")
    (out / "Modelfile").write_text(f"FROM ./{gguf.name}\n")
    checks = {  # what a real check reports, its longest names included
        "passed": True, "chat_template": True, "stops_at_end_of_turn": True, "top1_agreement": 0.97,
        "kl_divergence": 0.004, "perplexity_ratio": 1.002, "stop_rate": 1.0, "stop_rate_merged": 0.88,
    }  # fmt: skip
    EventWriter(stream=None, log_path=out / "events.jsonl").emit(
        "finished",
        status="completed",
        gguf_path=str(gguf),
        modelfile_path=str(out / "Modelfile"),
        verification=checks,
    )
    return run


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_fits_1024x640_without_sideways_scrolling(
    qtbot, window, starter_gguf, theme, tmp_path
) -> None:
    window.set_theme(theme)
    window.state.set_model_ref("starter")
    window.state.set_data_path(str(sample_dataset()))
    window.chat_page.set_model(str(starter_gguf))  # the longest name a page shows without wrapping
    window.state.set_run_dir(str(_exported_run(tmp_path)))  # Export shows its file and folder
    # A finished run on the Train page, with both notes under it: the tallest its run card gets.
    forgetting = {"general_loss_base": 1.0, "general_loss_tuned": 1.1, "prompts": 24, "seconds": 1.0}
    reason = "Stopped early: validation loss did not improve over the last 3 checks (best 0.5)."
    for event in (
        {"event": "started", "total_steps": 30},
        {"event": "step", "step": 30, "total_steps": 30, "tokens_per_second": 186.0, "memory_gb": 3.2},
        {"event": "eval", "step": 30, "val_loss": 1.458},
        {
            "event": "finished",
            "status": "early_stopped",
            "steps": 30,
            "forgetting": forgetting,
            "stop_reason": reason,
        },
    ):
        window.train_page.monitor.add_event(event)
    window.resize(1024, 640)
    problems = {}
    for index, name in enumerate(PAGE_NAMES):
        window.stack.setCurrentIndex(index)
        qtbot.wait(200)
        QApplication.processEvents()
        scroll = window.stack.currentWidget()
        assert isinstance(scroll, QScrollArea)
        sideways = scroll.horizontalScrollBar().maximum()
        # Scroll areas inside the page (Export has its own) must not scroll sideways either.
        sideways = max(
            [
                sideways,
                *(
                    inner.horizontalScrollBar().maximum()
                    for inner in scroll.widget().findChildren(QScrollArea)
                ),
            ]
        )
        cut = _cut_labels(scroll.widget())
        overlaps = _overlapping(scroll.widget())
        if sideways or cut or overlaps:
            problems[name] = {"sideways_px": sideways, "cut_labels": cut, "overlaps": overlaps}
    assert window.width() == 1024 and not problems, problems
