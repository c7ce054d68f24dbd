"""The Train page and the main window driving the REAL worker (`python -m tunedesk.worker train`).

The tiny random Llama from tests/conftest.py trains a step in about a second, so pausing, resuming,
cancelling and closing the window mid-run are cheap to check against the real thing rather than only the fake
worker. The run is long (more steps than it ever reaches) and checks nothing between steps: every run here
ends by a cancel, and what it leaves in its run folder is read back.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import Qt

from tunedesk.core.presets.preset import Preset
from tunedesk.core.runs import RunConfig, RunLayout, create_run, summarize_run
from tunedesk.ui.app_state import AppState
from tunedesk.ui.main_window import MainWindow
from tunedesk.ui.pages.train.page import TrainPage

pytestmark = [pytest.mark.gui, pytest.mark.e2e]

# Generous: the machine running the tests may be shared and slow; nothing here waits this long when it is not.
LOAD_MS = 600_000  # the worker imports torch and loads the model before its first step
STEP_MS = 300_000


def _long_run(model_dir: Path, tmp_path: Path, **preset_fields: object) -> RunLayout:
    """A run that would take thousands of steps, with no check, sample or checkpoint until it is stopped."""
    data = tmp_path / "tickets.jsonl"
    rows = [
        {"messages": [{"role": "user", "content": f"Ticket {i}"}, {"role": "assistant", "content": f"T{i}"}]}
        for i in range(24)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    preset = Preset(
        max_steps=5000,
        batch_size=1,
        grad_accum=1,
        seq_len=64,
        eval_every=100_000,
        save_every=100_000,
        val_max=2,
        sample_prompts=0,
        **preset_fields,
    )
    return create_run(RunConfig(model=str(model_dir), data=str(data), preset=preset))


def _events(layout: RunLayout) -> list[dict]:
    return [json.loads(line) for line in layout.events.read_text().splitlines() if line.strip()]


def _wait_for_first_step(qtbot, page: TrainPage) -> None:
    """Until the first step is drawn; a worker that ends first fails the test with its log."""
    qtbot.waitUntil(lambda: bool(page.curves.train_points) or not page.worker.is_running(), timeout=LOAD_MS)
    assert page.curves.train_points, page.log.toPlainText()[-3000:]


@pytest.fixture
def page(qtbot, stop_workers) -> TrainPage:
    state = AppState()
    p = TrainPage(state)
    qtbot.addWidget(p)
    stop_workers(p.worker)
    stop_workers(p.advisor.process)
    p._state_keepalive = state  # the page's parent-less state must live as long as the page
    return p


def test_pause_resume_and_cancel_the_real_worker_through_the_buttons(qtbot, page, tiny_model_dir, tmp_path):
    layout = _long_run(tiny_model_dir, tmp_path)
    with qtbot.waitSignal(page.worker.started, timeout=10_000):
        page.state.request_resume(str(layout.root))  # as the Runs page's "Resume" does
    assert page.worker.is_attached() and page.state.training
    _wait_for_first_step(qtbot, page)

    with qtbot.waitSignal(
        page.worker.event, check_params_cb=lambda e: e["event"] == "paused", timeout=STEP_MS
    ):
        qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    assert page.stats.state_label.text().startswith("Paused at step")
    assert page.resume_button.isEnabled() and not page.pause_button.isEnabled()
    assert summarize_run(layout.root).status == "paused"

    with qtbot.waitSignal(
        page.worker.event, check_params_cb=lambda e: e["event"] == "resumed", timeout=STEP_MS
    ):
        qtbot.mouseClick(page.resume_button, Qt.MouseButton.LeftButton)
    steps_at_resume = len(page.curves.train_points)
    qtbot.waitUntil(lambda: len(page.curves.train_points) > steps_at_resume, timeout=STEP_MS)
    assert page.pause_button.isEnabled() and not page.resume_button.isEnabled()

    with qtbot.waitSignal(page.worker.finished, timeout=STEP_MS) as ended:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    outcome = ended.args[0]
    assert outcome.status == "cancelled", page.log.toPlainText()[-3000:]
    assert outcome.exit_code == 3  # the worker's own exit code: this app started it
    last = _events(layout)[-1]
    assert last["event"] == "finished" and last["status"] == "cancelled"
    summary = summarize_run(layout.root)
    assert summary.status == "cancelled" and summary.resumable  # a checkpoint to continue from
    assert not page.state.training and page.stats.state_label.text().startswith("Stopped")


def test_a_battery_pause_says_why_and_resume_goes_on_on_battery(
    qtbot, page, tiny_model_dir, tmp_path, monkeypatch
):
    """The worker waits for mains power after a battery pause; the page's Resume once did nothing then."""
    from tunedesk.core.training.power import BATTERY_ENV

    sensor = tmp_path / "battery.json"
    sensor.write_text(json.dumps({"percent": 80, "plugged": False}))
    monkeypatch.setenv(BATTERY_ENV, str(sensor))  # the worker inherits it: its battery sensor, injected
    layout = _long_run(tiny_model_dir, tmp_path, pause_on_battery_below=25)
    with qtbot.waitSignal(page.worker.started, timeout=10_000):
        page.state.request_resume(str(layout.root))
    _wait_for_first_step(qtbot, page)

    with qtbot.waitSignal(
        page.worker.event, check_params_cb=lambda e: e["event"] == "paused", timeout=STEP_MS
    ):
        sensor.write_text(json.dumps({"percent": 12, "plugged": False}))
    state = page.stats.state_label.text()
    assert state.startswith("Paused at step") and "on battery below 25 %; resumes on mains power" in state
    assert page.resume_button.isEnabled() and "on battery" in page.resume_button.toolTip()

    with qtbot.waitSignal(
        page.worker.event, check_params_cb=lambda e: e["event"] == "resumed", timeout=STEP_MS
    ):
        qtbot.mouseClick(page.resume_button, Qt.MouseButton.LeftButton)  # still on battery at 12 %
    steps_at_resume = len(page.curves.train_points)
    qtbot.waitUntil(lambda: len(page.curves.train_points) > steps_at_resume + 2, timeout=STEP_MS)
    assert not page.paused and page.pause_button.isEnabled()  # trains on; no second battery pause
    assert [e["event"] for e in _events(layout)].count("paused") == 1
    with qtbot.waitSignal(page.worker.finished, timeout=STEP_MS):
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)


def _train_in_window(qtbot, window: MainWindow, model_dir: Path, tmp_path: Path) -> tuple[RunLayout, int]:
    layout = _long_run(model_dir, tmp_path)
    train = window.train_page
    with qtbot.waitSignal(train.worker.started, timeout=10_000):
        window.state.request_resume(str(layout.root))
    _wait_for_first_step(qtbot, train)
    pid = train.worker.pid()
    assert pid and psutil.pid_exists(pid)
    return layout, pid


def test_closing_the_window_keeps_the_real_run_training_and_the_next_window_finds_it(
    qtbot, window, tiny_model_dir, stop_workers, tmp_path, answer_close_dialog
):
    layout, pid = _train_in_window(qtbot, window, tiny_model_dir, tmp_path)
    worker = psutil.Process(pid)
    try:
        answer_close_dialog("Keep training in the background")
        assert window.close()
        steps = len([e for e in _events(layout) if e["event"] == "step"])
        qtbot.waitUntil(
            lambda: len([e for e in _events(layout) if e["event"] == "step"]) > steps, timeout=STEP_MS
        )  # it trains on without the window
        again = MainWindow()
        qtbot.addWidget(again)
        stop_workers(again.train_page.worker)
        stop_workers(again.train_page.advisor.process)
        assert "still training in the background" in again.runs_page.banner.message.text()
        # The next window follows it through the run folder and stops it the same way.
        again.runs_page.banner.action.click()
        assert again.train_page.worker.is_attached()
        with qtbot.waitSignal(again.train_page.worker.finished, timeout=STEP_MS) as ended:
            again.train_page.cancel()
        assert ended.args[0].status == "cancelled"
        worker.wait(timeout=60)
        assert _events(layout)[-1]["status"] == "cancelled"
    finally:
        if worker.is_running():
            worker.kill()


def test_closing_the_window_with_stop_cancels_the_real_run_and_records_it(
    qtbot, window, tiny_model_dir, tmp_path, answer_close_dialog
):
    layout, pid = _train_in_window(qtbot, window, tiny_model_dir, tmp_path)
    answer_close_dialog("Stop training")
    assert not window.close()  # deferred until the worker has saved its checkpoint
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=STEP_MS)
    psutil.Process(pid).wait(timeout=60) if psutil.pid_exists(pid) else None
    last = _events(layout)[-1]
    assert last["event"] == "finished" and last["status"] == "cancelled"
    summary = summarize_run(layout.root)
    assert summary.status == "cancelled" and summary.resumable
