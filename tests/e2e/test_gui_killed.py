"""The app killed while it trains (kill -9: a crash, a forced quit, a flat battery): the run goes on in its
worker and records its outcome; when the worker dies too, the next start says so and offers to resume, and
resuming from that offer finishes the run. Real app processes, the real worker, the tiny model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tunedesk.core.protocol import read_events
from tunedesk.core.runs import RunLayout, summarize_run

pytestmark = [pytest.mark.e2e, pytest.mark.gui]

START_TRAINING = """
import sys
from PySide6.QtCore import QTimer
from tunedesk.ui import app
from tunedesk.ui.main_window import MainWindow

MODEL, DATA = sys.argv[1], sys.argv[2]
SETTINGS = {"max_steps": 120, "batch_size": 2, "grad_accum": 1, "seq_len": 64, "eval_every": 10,
            "save_every": 10, "general_data_fraction": 0.0, "sample_prompts": 0}
shown = MainWindow.show


def drive(window):
    page = window.train_page
    window.state.set_model_ref(MODEL)
    window.state.set_data_path(DATA)

    def start():
        if not page.start_button.isEnabled():  # the core's advice for this machine comes first
            QTimer.singleShot(200, start)
            return
        for name, value in SETTINGS.items():
            page.form.rows[name].set_value(value)
        page.form.rows["max_steps"].changed.emit()
        assert page.start_training()
        print("run", window.state.run_dir, flush=True)

    start()


def show(self):
    shown(self)
    QTimer.singleShot(0, lambda: drive(self))


MainWindow.show = show
sys.exit(app.main([]))
"""

ACCEPT_OFFER = """
import json, sys
from PySide6.QtCore import QTimer
from tunedesk.ui import app
from tunedesk.ui.main_window import MainWindow

shown = MainWindow.show


def drive(window):
    banner = window.runs_page.banner
    print(json.dumps({"offer": banner.message.text(), "action": banner.action.text(),
                      "visible": banner.isVisibleTo(window.runs_page)}), flush=True)
    page = window.train_page

    def done(outcome):
        print(json.dumps({"finished": outcome.status}), flush=True)
        window.close()

    page.worker.finished.connect(done)
    banner.action.click()  # "Resume"


def show(self):
    shown(self)
    QTimer.singleShot(1500, lambda: drive(self))


MainWindow.show = show
sys.exit(app.main([]))
"""


def _steps(run: Path) -> list[int]:
    return [e["step"] for e in read_events(RunLayout(run).events) if e["event"] == "step"]


def _wait(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)


@pytest.mark.timeout(900)
def test_the_app_killed_mid_run_then_the_next_start_offers_to_resume(
    tmp_path: Path, tiny_model_dir: Path, data_file: Path
) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TUNEDESK_HOME": str(tmp_path / "home"),  # its runs and nothing else
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # the app's QSettings, away from the user's
    }
    gui = subprocess.Popen(
        [sys.executable, "-c", START_TRAINING, str(tiny_model_dir), str(data_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = gui.stdout.readline()
        assert line.startswith("run "), gui.stderr.read()[-3000:] if gui.poll() is not None else line
        run = Path(line.split(" ", 1)[1].strip())
        _wait(lambda: len(_steps(run)) >= 3, 300, "the first steps")
        gui.send_signal(signal.SIGKILL)
        gui.wait(30)
    finally:
        if gui.poll() is None:
            gui.kill()
    # The worker lives on without the app and keeps writing the run's events.
    worker = psutil.Process(json.loads(RunLayout(run).pid.read_text())["pid"])
    at_kill = max(_steps(run))
    _wait(
        lambda: max(_steps(run)) > at_kill + 10 and any(RunLayout(run).root.glob("checkpoints/*")),
        300,
        "steps and a checkpoint after the app was killed",
    )
    assert worker.is_running()
    worker.send_signal(signal.SIGKILL)  # now the training dies as well
    worker.wait(30)
    summary = summarize_run(run)
    assert summary.status == "crashed" and summary.resumable, summary

    again = subprocess.run(
        [sys.executable, "-c", ACCEPT_OFFER], env=env, capture_output=True, text=True, timeout=600
    )
    lines = [json.loads(x) for x in again.stdout.splitlines() if x.startswith("{")]
    assert lines, again.stderr[-3000:]
    offer = lines[0]
    assert offer["visible"] and offer["action"] == "Resume", offer
    assert "stopped unexpectedly" in offer["offer"] and run.name in offer["offer"]
    # It ends as a run ends: at its last step or by early stopping once validation stops improving.
    ended = ("completed", "early_stopped")
    assert lines[-1].get("finished") in ended, (lines, again.stderr[-3000:])
    events = read_events(RunLayout(run).events)
    assert events[-1]["event"] == "finished" and events[-1]["status"] in ended
    resumed = [e for e in events if e["event"] == "started" and e.get("resumed_from_step")]
    assert resumed and max(_steps(run)) > summary.step
    assert again.returncode == 0, again.stderr[-3000:]
