"""A run whose base model already did well at step 0 says so, on the Train page and the Runs page: a system
prompt may be enough (core/data/advice.py's base_already_good, fed by the step-0 validation loss)."""

from __future__ import annotations

import pytest

from tunedesk.core.protocol import EventWriter
from tunedesk.core.runs import RunConfig, create_run
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.runs.page import RunsPage

pytestmark = pytest.mark.gui


def test_the_train_page_notes_a_base_model_that_already_did_well(qtbot):
    from tunedesk.ui.pages.train.run_monitor import RunMonitor

    monitor = RunMonitor()
    qtbot.addWidget(monitor)
    monitor.add_event({"event": "finished", "status": "completed", "steps": 4, "base_val_loss": 1.9})
    assert not monitor.outcome_notes.isVisibleTo(monitor)  # a base that did poorly: training was worth it
    monitor.clear_run()
    monitor.add_event({"event": "finished", "status": "completed", "steps": 4, "base_val_loss": 0.31})
    assert monitor.outcome_notes.isVisibleTo(monitor)
    assert "base model already did well on your data (validation loss 0.31 at step 0)" in (
        monitor.outcome_notes.text()
    )
    assert "system prompt may be enough" in monitor.outcome_notes.text()


@pytest.mark.parametrize(("base_loss", "advised"), [(0.31, True), (1.9, False)])
def test_the_runs_page_notes_it_from_the_step_0_check(qtbot, base_loss, advised):
    layout = create_run(RunConfig(model="starter", data="notes.jsonl", name="easy"))
    writer = EventWriter(log_path=layout.events)
    writer.emit("started", run_dir=str(layout.root), total_steps=2)
    writer.emit("eval", step=0, val_loss=base_loss)
    writer.emit("step", step=2, total_steps=2, loss=0.2, learning_rate=1e-4)
    writer.emit("eval", step=2, val_loss=0.2, best_val_loss=0.2)
    writer.emit("finished", status="completed", best_val_loss=0.2)
    page = RunsPage(AppState())
    qtbot.addWidget(page)
    assert page.select(str(layout.root))
    text = page.forgetting.text()
    assert ("validation loss 0.31 at step 0" in text and "Chat page" in text) == advised
    assert bool(text) == advised
