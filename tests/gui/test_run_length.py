"""Before Start the Train page says how long a run takes (the real `tunedesk doctor --json` on the starter model
and the sample data) and lets the person choose a quick try or the full length; sequence length is in view."""

from __future__ import annotations

import pytest

from tunedesk.core.paths import sample_dataset
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.train.page import TrainPage

pytestmark = pytest.mark.gui


def test_quick_try_and_full_lengths_with_times_set_max_steps(qtbot, stop_workers):
    state = AppState()
    page = TrainPage(state)
    qtbot.addWidget(page)
    stop_workers(page.advisor.process)
    page.show()
    state.set_model_ref("starter")
    state.set_data_path(str(sample_dataset()))
    length = page.settings.length
    assert page.form.rows["seq_len"].isVisibleTo(page)  # not hidden under the advanced settings
    qtbot.waitUntil(lambda: length.buttons["quick"].text().startswith("Quick try, about"), timeout=120_000)
    assert length.buttons["full"].text().startswith("Full, about") and length.buttons["full"].isChecked()
    assert "machine" in length.source.text()
    quick = length.steps["quick"]
    assert 0 < quick < length.steps["full"]
    length.buttons["quick"].click()
    assert page.form.rows["max_steps"].value() == quick and state.preset.max_steps == quick
    # The renewed advice (the settings changed) keeps the person's choice and the same two lengths.
    with qtbot.waitSignal(page.advisor.advised, timeout=120_000):
        pass
    assert length.buttons["quick"].isChecked() and length.steps["quick"] == quick
    length.buttons["full"].click()
    assert page.form.rows["max_steps"].value() == 0 and state.preset.max_steps == 0
    page.form.rows["max_steps"].set_value(7)
    page.form.rows["max_steps"].changed.emit()
    assert length.buttons["custom"].isChecked() and "7 steps" in length.buttons["custom"].text()
