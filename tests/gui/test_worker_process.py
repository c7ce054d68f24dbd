"""WorkerProcess against real child processes: the fake worker (canned events) and once the real worker."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tunedesk.ui.process.worker_process import ProcessOutcome, WorkerProcess

pytestmark = pytest.mark.gui


def _collect(worker: WorkerProcess) -> dict[str, list]:
    got: dict[str, list] = {"event": [], "invalid": [], "stderr": [], "error": []}
    worker.event.connect(got["event"].append)
    worker.invalid_line.connect(got["invalid"].append)
    worker.stderr_line.connect(got["stderr"].append)
    worker.error_occurred.connect(got["error"].append)
    return got


@pytest.fixture
def worker(qtbot, stop_workers) -> WorkerProcess:
    w = WorkerProcess()
    stop_workers(w)
    return w


def test_canned_run_emits_events_in_order(qtbot, worker, fake_worker):
    got = _collect(worker)
    outcomes: list[ProcessOutcome] = []
    worker.finished.connect(outcomes.append)
    with qtbot.waitSignals([worker.started, worker.finished], order="strict", timeout=10000):
        worker.start_command([*fake_worker, "events"])
    (outcome,) = outcomes
    assert isinstance(outcome, ProcessOutcome)
    assert outcome.exit_code == 0 and not outcome.crashed
    assert outcome.was_successful() and outcome.status == "completed"
    kinds = [e["event"] for e in got["event"]]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert [e["step"] for e in got["event"] if e["event"] == "step"] == [1, 2, 3, 4, 5, 6]
    assert got["invalid"] == [] and got["error"] == []
    assert not worker.is_running()


def test_malformed_lines_are_kept_aside_and_partial_last_line_counts(qtbot, worker, fake_worker):
    got = _collect(worker)
    with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
        worker.start_command([*fake_worker, "malformed"])
    kinds = [e["event"] for e in got["event"]]
    assert kinds == ["started", "step", "finished"]  # the last one had no newline
    assert blocker.args[0].status == "completed"
    assert "Loading model... (a stray print)" in got["invalid"]
    assert any("broken utf-8" in line and "\ufffd" in line for line in got["invalid"])
    assert len(got["invalid"]) == 5


def test_crash_mid_run_is_reported_not_successful(qtbot, worker, fake_worker):
    got = _collect(worker)
    with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
        worker.start_command([*fake_worker, "crash"])
    outcome: ProcessOutcome = blocker.args[0]
    assert outcome.crashed and outcome.last_event is None
    assert outcome.status == "crashed" and not outcome.was_successful()
    assert any("RuntimeError: boom" in line for line in got["stderr"])
    assert [e["step"] for e in got["event"] if e["event"] == "step"] == [1, 2]


def test_error_event_with_hint_reaches_the_outcome(qtbot, worker, fake_worker):
    with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
        worker.start_command([*fake_worker, "fail"])
    outcome: ProcessOutcome = blocker.args[0]
    assert outcome.exit_code == 1 and outcome.status == "failed"
    assert outcome.error()["hint"] == "Lower batch_size or seq_len."


def test_slow_stream_arrives_live(qtbot, worker, fake_worker):
    steps: list[int] = []
    worker.event.connect(lambda e: e["event"] == "step" and steps.append(e["step"]))
    worker.start_command([*fake_worker, "slow"])
    # The first steps arrive while the child is still sleeping between events: nothing is buffered to exit.
    qtbot.waitUntil(lambda: len(steps) >= 2, timeout=10000)
    assert worker.is_running()
    qtbot.waitSignal(worker.finished, timeout=10000).wait()
    assert steps == [1, 2, 3, 4, 5, 6]


def test_stdin_commands_are_echoed_back(qtbot, worker, fake_worker):
    got = _collect(worker)
    with qtbot.waitSignal(worker.started, timeout=10000):
        worker.start_command([*fake_worker, "echo"])
    with qtbot.waitSignal(worker.event, check_params_cb=lambda e: e["event"] == "paused", timeout=10000):
        assert worker.send("pause")
    with qtbot.waitSignal(worker.event, check_params_cb=lambda e: e["event"] == "resumed", timeout=10000):
        worker.send("resume")
    with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
        worker.cancel()
    assert blocker.args[0].exit_code == 3 and blocker.args[0].status == "cancelled"
    logs = [e["message"] for e in got["event"] if e["event"] == "log"]
    assert logs == ["got pause", "got resume", "got cancel"]


def test_terminate_then_kill_a_worker_that_ignores_sigterm(qtbot, worker):
    import sys

    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    worker.kill_timeout_ms = 300
    with qtbot.waitSignal(worker.invalid_line, timeout=10000):
        worker.start_command([sys.executable, "-c", code])
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.terminate()
    assert blocker.args[0].crashed and not blocker.args[0].was_successful()


def test_failure_to_start_is_an_error_not_a_crash(qtbot, worker):
    with qtbot.waitSignal(worker.error_occurred, timeout=5000) as blocker:
        worker.start_command(["/nonexistent/tunedesk-worker"])
    assert "Could not start" in blocker.args[0]
    assert not worker.is_running()


def test_detached_worker_is_followed_through_its_run_folder(qtbot, worker, fake_worker, tmp_path):
    """A worker that must outlive the window: events from events.jsonl, cancel via RUN_DIR/control."""
    run = tmp_path / "run"
    run.mkdir()
    got = _collect(worker)
    worker.kill_timeout_ms = 2000
    # start_detached runs the real worker command; attach() follows any process, here the fake one.
    import subprocess

    child = subprocess.Popen([*fake_worker, "run", str(run)], env={**os.environ, "PYTHONPATH": _src()})
    try:
        qtbot.waitUntil(lambda: (run / "worker.pid").exists(), timeout=10000)
        with qtbot.waitSignal(worker.started, timeout=5000):
            worker.attach(run)
        assert worker.is_attached() and worker.pid() == child.pid
        qtbot.waitUntil(lambda: any(e["event"] == "step" for e in got["event"]), timeout=10000)
        with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
            worker.cancel()
        outcome: ProcessOutcome = blocker.args[0]
        assert outcome.status == "cancelled" and outcome.exit_code == 3 and not outcome.crashed
        assert got["event"][0]["event"] == "started"  # replayed from the start of events.jsonl
    finally:
        child.kill()
        child.wait()


def test_attached_worker_that_dies_is_reported_crashed(qtbot, worker, fake_worker, tmp_path):
    import subprocess

    run = tmp_path / "run"
    run.mkdir()
    child = subprocess.Popen([*fake_worker, "run", str(run)], env={**os.environ, "PYTHONPATH": _src()})
    qtbot.waitUntil(lambda: (run / "worker.pid").exists(), timeout=10000)
    worker.attach(run)
    with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert blocker.args[0].crashed and blocker.args[0].status == "crashed"


def test_start_detached_survives_its_wrapper(qtbot, fake_worker, tmp_path, monkeypatch):
    """start_detached really detaches: the child lives on after the wrapper is gone."""
    import psutil

    import tunedesk.ui.process.worker_process as wp

    run = tmp_path / "run"
    run.mkdir()
    monkeypatch.setattr(wp, "worker_command", lambda *args: [*fake_worker, *args])
    w = WorkerProcess()
    with qtbot.waitSignal(w.event, check_params_cb=lambda e: e["event"] == "step", timeout=10000):
        w.start_detached(["run", str(run), "100000"], run)
    pid = w.pid()
    w.detach()
    del w
    try:
        assert psutil.pid_exists(pid)
        assert json.loads((run / "worker.pid").read_text())["pid"] == pid
        assert "worker log: started" in (run / "stderr.log").read_text()
    finally:
        psutil.Process(pid).kill()


def test_real_worker_probe(qtbot, worker):
    """The real `python -m tunedesk.worker probe` through the same wrapper."""
    got = _collect(worker)
    with qtbot.waitSignal(worker.finished, timeout=120000) as blocker:
        worker.start(["probe"])
    outcome: ProcessOutcome = blocker.args[0]
    assert outcome.exit_code == 0, got["stderr"]
    # probe prints one JSON object (HardwareInfo), not a protocol event: it arrives as an invalid line.
    info = json.loads("".join(got["invalid"]))
    assert isinstance(info, dict) and info


def _src() -> str:
    return str(Path(__file__).resolve().parents[2] / "desktop")


def test_starting_again_supersedes_the_running_process(qtbot, worker, fake_worker):
    """A page whose answer went stale (a new file chosen) starts again at once, without waiting."""
    got = _collect(worker)
    outcomes: list[ProcessOutcome] = []
    worker.finished.connect(outcomes.append)
    worker.start_command([*fake_worker, "slow"])
    qtbot.waitUntil(lambda: any(e["event"] == "step" for e in got["event"]), timeout=10000)
    worker.kill()  # asynchronous: the old child is still there
    got["event"].clear()
    with qtbot.waitSignal(worker.finished, timeout=10000):
        worker.start_command([*fake_worker, "events"])
    qtbot.wait(300)
    assert len(outcomes) == 1 and outcomes[0].status == "completed"  # only the new one reports
    assert got["event"][0]["event"] == "started" and got["event"][-1]["event"] == "finished"
