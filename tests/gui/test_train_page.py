"""The Train page driven by real child processes: the fake worker's canned events, and the real worker."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import tunedesk.ui.process.worker_process as worker_process
from tunedesk.core.paths import sample_dataset
from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import EventWriter
from tunedesk.core.runs import RunConfig, create_run, summarize_run
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.train.page import TrainPage

pytestmark = pytest.mark.gui
FAKE = Path(__file__).with_name("fake_worker.py")


@pytest.fixture
def page(qtbot, stop_workers, data_file) -> TrainPage:
    state = AppState()
    p = TrainPage(state)
    qtbot.addWidget(p)
    stop_workers(p.worker)
    stop_workers(p.advisor.process)
    # A model the core cannot resolve: its advice (`tunedesk doctor`) fails fast, and Start is ready then.
    state.set_model_ref(str(data_file.parent / "no-such-model"))
    state.set_data_path(str(data_file))
    p._state_keepalive = state  # the page's parent-less state must live as long as the page
    return p


def test_canned_events_update_curves_progress_samples_and_log(qtbot, page):
    with qtbot.waitSignal(page.worker.finished, timeout=10000):
        page.worker.start_command([sys.executable, str(FAKE), "events"])
    assert [p[0] for p in page.curves.train_points] == [1, 2, 3, 4, 5, 6]
    assert page.curves.train_points[0][1] == pytest.approx(2.5)
    assert [p[0] for p in page.curves.val_points] == [0, 3, 6]
    assert len(page.curves.lr_points) == 6
    x, _y = page.curves.train_curve.getData()
    assert list(x) == [1, 2, 3, 4, 5, 6]  # drawn, not only collected
    assert page.stats.progress.maximum() == 6 and page.stats.progress.value() == 6
    assert page.stats.values["step"].text() == "6 / 6"
    assert page.stats.values["speed"].text() == "123"
    assert page.stats.values["memory"].text() == "1.6 GB"
    assert page.stats.values["val"].text() == "0.333"
    assert page.stats.state_label.text() == "Training finished"
    assert page.samples.steps() == [6, 3] and page.samples.answers() == ["Jam 6"]  # the latest check shown
    assert page.samples.table.item(0, 1).text() == "Printer jams."
    assert any("saved the adapter" in line for line in page.log.lines())
    assert any("checkpoint at step 6" in line for line in page.log.lines())
    assert not page.cancel_button.isEnabled() and not page.pause_button.isEnabled()


def test_error_event_is_a_readable_banner_with_details(qtbot, page):
    with qtbot.waitSignal(page.worker.finished, timeout=10000):
        page.worker.start_command([sys.executable, str(FAKE), "fail"])
    banner = page.banner
    assert banner.isVisibleTo(page)
    assert banner.message.text() == "The model does not fit in memory."
    assert "Lower batch_size or seq_len." in banner.hint.text()
    assert not banner.details.isVisibleTo(page)
    banner.details_button.click()
    assert banner.details.isVisibleTo(page)
    assert "CUDA out of memory" in banner.details.toPlainText()
    assert page.stats.state_label.text() == "Training failed"


def test_a_crash_without_finished_says_so_and_offers_to_continue(qtbot, page):
    with qtbot.waitSignal(page.worker.finished, timeout=10000):
        page.worker.start_command([sys.executable, str(FAKE), "crash"])
    assert page.banner.message.text() == "The training process stopped unexpectedly."
    assert "RuntimeError: boom" in page.banner.details.toPlainText()
    assert page.banner.action.text() == "Continue training"
    assert page.stats.state_label.text() == "Stopped unexpectedly"


def test_start_and_cancel_through_the_buttons(qtbot, page, monkeypatch):
    """Start writes a run folder and starts a detached worker on it; Cancel reaches it via RUN_DIR/control."""
    from PySide6.QtCore import Qt

    # The real worker command, with the fake worker in its place (the training worker has its own test).
    monkeypatch.setattr(worker_process, "worker_command", lambda *a: [sys.executable, str(FAKE), "run", a[1]])
    assert not page.start_button.isEnabled()  # until the core has chosen settings for this machine
    qtbot.waitUntil(page.start_button.isEnabled, timeout=60000)
    assert page.estimate.verdict.text().startswith("No memory estimate")
    page.form.rows["lora_r"].set_value(8)
    page.form.rows["lora_r"].changed.emit()
    with qtbot.waitSignal(page.worker.started, timeout=10000):
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    run = Path(page.state.run_dir)
    config = json.loads((run / "config.json").read_text())
    assert config["model"].endswith("no-such-model") and config["preset"]["lora_r"] == 8
    assert page.state.training and not page.start_button.isEnabled() and page.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: len(page.curves.train_points) >= 3, timeout=15000)
    with qtbot.waitSignal(page.worker.event, check_params_cb=lambda e: e["event"] == "paused", timeout=10000):
        qtbot.mouseClick(page.pause_button, Qt.MouseButton.LeftButton)
    assert page.stats.state_label.text().startswith("Paused at step")
    assert page.resume_button.isEnabled() and not page.pause_button.isEnabled()
    with qtbot.waitSignal(
        page.worker.event, check_params_cb=lambda e: e["event"] == "resumed", timeout=10000
    ):
        qtbot.mouseClick(page.resume_button, Qt.MouseButton.LeftButton)
    assert page.stats.state_label.text() == "Training" and page.pause_button.isEnabled()
    with qtbot.waitSignal(page.worker.finished, timeout=15000) as blocker:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].status == "cancelled"
    assert not page.state.training and page.start_button.isEnabled()
    assert page.stats.state_label.text().startswith("Stopped")


def test_the_laptop_settings_are_in_view_and_reach_the_preset(qtbot, page):
    """Keep awake and pause on battery (the worker obeys them: tests/unit/test_training_power.py feeds it
    battery readings) sit with the main settings, not under Advanced."""
    qtbot.waitUntil(page.start_button.isEnabled, timeout=60000)
    awake, battery = page.form.rows["prevent_sleep"], page.form.rows["pause_on_battery_below"]
    assert awake.parent() is not page.form.advanced and battery.parent() is not page.form.advanced
    assert awake.label.text() == "Keep the computer awake" and "sleep" in awake.help.text()
    awake.set_value(False)
    awake.changed.emit()
    battery.set_value(35)
    battery.changed.emit()
    preset = page.form.preset()
    assert preset.prevent_sleep is False and preset.pause_on_battery_below == 35


def test_invalid_setting_is_shown_on_its_row_and_blocks_start(qtbot, page):
    qtbot.waitUntil(page.start_button.isEnabled, timeout=60000)
    row = page.form.rows["learning_rate"]
    row.editor.setText("2")  # must be between 0 and 1
    row.changed.emit()
    assert "learning_rate" in row.help.text()
    assert not page.start_training()
    assert page.state.run_dir == ""


def test_a_past_run_is_redrawn_from_events_jsonl(qtbot, page, data_file):
    layout = create_run(RunConfig(model="starter", data=str(data_file), preset=Preset(lora_r=4)))
    writer = EventWriter(log_path=layout.events)
    writer.emit("started", run_dir=str(layout.root), total_steps=10)
    for step in range(1, 5):
        writer.emit("step", step=step, total_steps=10, loss=3.0 - step * 0.5, learning_rate=1e-4)
    sample = {"prompt": "p", "reference": "r", "answer": "a"}
    writer.emit("eval", step=4, val_loss=1.5, best_val_loss=1.5, samples=[sample])
    writer.emit("checkpoint", step=4, path="checkpoints/step-4", is_best=True)
    (layout.checkpoint(4)).mkdir(parents=True)
    assert summarize_run(layout.root).status == "crashed"  # no worker, no `finished`
    layout_model = "starter"
    assert layout_model == json.loads(layout.config.read_text())["model"]
    page.state.request_open(str(layout.root))
    assert [p[0] for p in page.curves.train_points] == [1, 2, 3, 4]
    assert page.curves.val_points == [(4, 1.5)]
    assert page.samples.table.rowCount() == 1
    assert page.form.rows["lora_r"].value() == 4
    assert page.banner.isVisibleTo(page) and page.banner.action.text() == "Continue training"


@pytest.mark.e2e
def test_real_two_step_training_through_the_widgets(qtbot, page, tiny_model_dir, data_file):
    """The real worker trains the tiny model for 2 steps, started with the Start button."""
    from PySide6.QtCore import Qt

    page.state.set_model_ref(str(tiny_model_dir))
    # The core's advice for the tiny model arrives first (Start waits for it), then our overrides.
    qtbot.waitUntil(page.start_button.isEnabled, timeout=300_000)
    assert page.estimate.verdict.text().startswith("✓ Fits")
    for name, value in {
        "max_steps": 2,
        "batch_size": 2,
        "grad_accum": 1,
        "seq_len": 64,
        "eval_every": 1,
    }.items():
        page.form.rows[name].set_value(value)
    page.form.rows["max_steps"].changed.emit()
    with qtbot.waitSignal(page.worker.finished, timeout=600_000) as blocker:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    outcome = blocker.args[0]
    assert outcome.was_successful(), (outcome, page.log.toPlainText()[-3000:])
    assert [p[0] for p in page.curves.train_points] == [1, 2]
    assert page.curves.val_points
    assert page.stats.progress.value() == page.stats.progress.maximum()


def test_a_pairs_file_gets_the_dpo_objective_and_says_why(qtbot, page, tiny_model_dir):
    """Choosing preference pairs on the Data page: the core's advice (real `tunedesk doctor`) is DPO."""
    from tunedesk.core.paths import resources_dir

    page.state.set_model_ref(str(tiny_model_dir))
    page.state.set_data_path(str(resources_dir() / "sample_data" / "support_preferences.jsonl"))
    qtbot.waitUntil(lambda: page.form.rows["objective"].value() == "dpo", timeout=300_000)
    assert page.state.preset.objective == "dpo" and page.state.preset.name == "dpo"
    assert "Preference tuning (DPO)" in page.estimate.reasons.text()


def test_doctor_json_becomes_advice_and_a_verdict(qtbot, page):
    """The shape `tunedesk doctor --json` prints (cli/doctor_cmd.py), worded by the estimate view."""
    from tunedesk.ui.pages.train.settings_advisor import parse_doctor

    estimate = {
        "total_mb": 2685.2,
        "available_mb": 21082.1,
        "fits": True,
        "verdict": "fits with 18.0 GB to spare",
    }
    report = {
        "hardware": {},
        "selection": {
            "preset": Preset(name="lora-cpu", lora_r=16).to_dict(),
            "device": "cpu",
            "reasons": ["LoRA: fits on the CPU."],
            "warnings": ["Close other programs."],
            "estimate": estimate,
        },
    }
    advice = parse_doctor(json.dumps(report), ok=True)
    assert advice.preset["name"] == "lora-cpu" and advice.estimate["device"] == "cpu"
    assert advice.notes == ["LoRA: fits on the CPU.", "Close other programs."]
    page.settings._on_advice(advice)
    assert page.estimate.verdict.text() == "✓ Fits on this machine"
    assert page.estimate.detail.text() == "Fits with 18.0 GB to spare."
    assert page.form.preset_name.text() == "Starting point: the 'lora-cpu' preset"
    assert page.state.preset.name == "lora-cpu"
    missing = parse_doctor(
        json.dumps({"error": {"message": "The starter model is not installed."}}), ok=False
    )
    assert missing.error == "The starter model is not installed." and missing.preset is None


def test_time_left_counts_down_from_core_progress_and_freezes_while_paused(qtbot):
    """RunStats draws core's RunProgress; the clock is moved by hand (no waiting in a test)."""
    from tunedesk.ui.pages.train.run_stats import RunStats

    stats = RunStats()
    qtbot.addWidget(stats)
    stats.add_event({"event": "started", "total_steps": 10})
    stats.add_event({"event": "step", "step": 2, "total_steps": 10, "eta_seconds": 100.0})
    assert stats.values["eta"].text() == "1 min 40 s"
    stats.run._eta_at -= 30  # thirty seconds pass while training
    stats.set_following(True)
    assert stats.values["eta"].text() == "1 min 10 s"
    stats.add_event({"event": "paused", "step": 2})
    at_pause = stats.values["eta"].text()
    stats.run._eta_at -= 600  # a long pause: nothing is counted down
    stats.set_following(True)
    assert stats.values["eta"].text() == at_pause
    stats.add_event({"event": "finished", "status": "completed", "steps": 10})
    assert stats.values["eta"].text() == "done" and stats.progress.value() == stats.progress.maximum()


def test_a_battery_pause_says_why_on_the_state_line(qtbot):
    from tunedesk.ui.pages.train.run_monitor import RESUME_TIP, RunMonitor

    monitor = RunMonitor()
    qtbot.addWidget(monitor)
    monitor.clear_run(pause_below=30)  # the page passes the shown run's threshold
    monitor.add_event({"event": "started", "total_steps": 9})
    monitor.add_event({"event": "paused", "step": 4, "reason": "battery"})
    assert (
        monitor.stats.state_label.text() == "Paused at step 4: on battery below 30 %; resumes on mains power"
    )
    assert "Continue now, on battery" in monitor.resume_button.toolTip()
    monitor.add_event({"event": "resumed", "step": 4, "reason": "mains_power"})
    assert monitor.stats.state_label.text() == "Training" and monitor.resume_button.toolTip() == RESUME_TIP
    monitor.add_event({"event": "paused", "step": 5})  # the user's own pause: no reason to give
    assert monitor.stats.state_label.text() == "Paused at step 5"


def test_a_finished_run_says_what_it_did_to_general_ability(qtbot):
    from tunedesk.ui.pages.train.run_monitor import RunMonitor

    monitor = RunMonitor()
    qtbot.addWidget(monitor)
    monitor.add_event({"event": "started", "total_steps": 2})
    assert not monitor.outcome_notes.isVisibleTo(monitor)
    forgetting = {"general_loss_base": 1.0, "general_loss_tuned": 1.1, "prompts": 24, "seconds": 1.0}
    monitor.add_event({"event": "finished", "status": "completed", "steps": 2, "forgetting": forgetting})
    assert monitor.outcome_notes.isVisibleTo(monitor)
    assert monitor.outcome_notes.text().startswith("General ability: slightly lower than the base model")
    assert "general_data_fraction" in monitor.outcome_notes.text()
    monitor.clear_run()
    assert not monitor.outcome_notes.isVisibleTo(monitor)
    # The remedy starts from the run's own fraction (its started event says it), not a fixed suggestion.
    monitor.add_event({"event": "started", "total_steps": 2, "general_data_fraction": 0.2})
    monitor.add_event({"event": "finished", "status": "completed", "steps": 2, "forgetting": forgetting})
    assert "general_data_fraction=0.3 (now 0.2)" in monitor.outcome_notes.text()


def test_a_run_that_stopped_itself_says_why(qtbot):
    from tunedesk.ui.pages.train.run_monitor import RunMonitor

    monitor = RunMonitor()
    qtbot.addWidget(monitor)
    reason = "Stopped early: validation loss did not improve over the last 3 checks (best 0.5)."
    monitor.add_event({"event": "finished", "status": "early_stopped", "steps": 9, "stop_reason": reason})
    assert monitor.outcome_notes.isVisibleTo(monitor) and monitor.outcome_notes.text() == reason


def test_a_run_mixing_less_general_data_than_chosen_says_so(qtbot):
    from tunedesk.ui.pages.train.run_monitor import RunMonitor

    monitor = RunMonitor()
    qtbot.addWidget(monitor)
    as_chosen = {"event": "started", "total_steps": 2, "general_data_fraction": 0.2}
    monitor.add_event({**as_chosen, "general_fraction_used": 0.2})
    assert not monitor.outcome_notes.isVisibleTo(monitor)
    monitor.clear_run()
    monitor.add_event({**as_chosen, "general_fraction_used": 0.074})
    assert monitor.outcome_notes.isVisibleTo(monitor)
    assert monitor.outcome_notes.text().startswith(
        "General data is 7% of the training mix, not the 20% chosen"
    )
    reason = "Stopped early: validation loss did not improve."
    monitor.add_event({"event": "finished", "status": "early_stopped", "steps": 2, "stop_reason": reason})
    assert monitor.outcome_notes.text().splitlines()[1].startswith("General data is 7%")  # kept at the end


def test_processes_are_offered_only_with_several_gpus(qtbot, page):
    row = page.settings.processes
    assert row.isHidden() and row.processes() == 1  # no GPU probed
    gpu = {"name": "H100", "total_mb": 81_920, "free_mb": 80_000}
    page.state.set_hardware({"cuda": [gpu, gpu]})
    assert not row.isHidden() and row.spin.maximum() == 2
    started: list[list[str]] = []
    start_cli = page.settings.advisor.process.start_cli
    page.settings.advisor.process.start_cli = lambda args: (started.append(args), start_cli(args))
    page.state.model_ref, page.state.data_path = "starter", str(sample_dataset())
    row.spin.setValue(2)
    assert row.processes() == 2
    # The estimate is per process: choosing 2 asks the core again, for two.
    qtbot.waitUntil(lambda: any("--processes" in a for a in started), timeout=5000)
    assert started[-1][started[-1].index("--processes") + 1] == "2"
    page.state.set_hardware({"cuda": [gpu]})
    assert row.isHidden() and row.processes() == 1
