"""The Train page's figures render core's RunProgress: best val loss from the step-0 point, time left frozen
while paused."""

from __future__ import annotations

import pytest

from tunedesk.ui.pages.train.run_stats import RunStats

pytestmark = pytest.mark.gui


def test_best_val_loss_shows_the_step_0_point_and_time_left_freezes(qtbot) -> None:
    stats = RunStats()
    qtbot.addWidget(stats)
    stats.add_event({"event": "started", "run_dir": "r", "total_steps": 10})
    stats.add_event({"event": "eval", "step": 0, "val_loss": 2.5, "best_val_loss": None})
    assert stats.values["val"].text() == "2.500"
    stats.add_event({"event": "step", "step": 1, "total_steps": 10, "loss": 2.0, "eta_seconds": 600})
    stats.add_event({"event": "paused", "step": 1})
    stats.run._eta_at -= 120  # two minutes pass while paused
    stats.set_following(True)
    assert stats.values["eta"].text() == "10 min 00 s"
