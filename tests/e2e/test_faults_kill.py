"""kill -9 at many points of one run (in a step, in a checkpoint save, in validation, at an arbitrary moment),
resumed each time: nothing before the last complete checkpoint is lost, no torn checkpoint is trusted, and the
final adapter is the one an uninterrupted run trains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tunedesk.core.launch import worker_env
from tunedesk.core.runs import RunLayout, list_runs, pid_alive, summarize_run
from tunedesk.core.training.checkpoints import valid_checkpoints

from .train_helpers import (
    RESUMABLE,
    file_events,
    finish,
    make_run,
    of,
    read_until,
    run_worker,
    worker,
    write_chat_jsonl,
)

pytestmark = pytest.mark.e2e

# No pruning, so "nothing lost" can be checked folder by folder.
SETTINGS = {**RESUMABLE, "keep_checkpoints": 10, "early_stopping_patience": 0}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_chat_jsonl(tmp_path_factory.mktemp("data") / "tickets.jsonl")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, data: Path) -> Path:
    run = make_run(tmp_path_factory.mktemp("reference") / "run", tiny_model_dir, data, **SETTINGS)
    code, _, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    return run


def _losses(events: list[dict]) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in of(events, "step")}  # a resumed step replaces the earlier one


def _complete(run: Path) -> list[int]:
    return [step for step, _ in valid_checkpoints(RunLayout(run))]


def test_repeated_kill9_then_resume_matches_uninterrupted(
    tmp_path: Path, tiny_model_dir: Path, data: Path, reference: Path
) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, data, **SETTINGS)
    layout = RunLayout(run)
    # (fault, checkpoints complete after the crash, the step the next start resumes from)
    plan = [
        ("crash_in_step:3", [2], 2),  # killed inside step 3, before its update
        ("crash_in_checkpoint_save:6", [2, 4], 4),  # checkpoint 6 half-written: must not be trusted
        ("crash_in_validation:8", [2, 4, 6], 6),  # killed while validating step 8, before its checkpoint
    ]
    resumed_from = [None]
    for fault, complete, resume_at in plan:
        code, events, _, stderr = run_worker(run, env={"TUNEDESK_FAULT": fault})
        assert code == 137, (fault, stderr[-3000:])
        assert of(events, "started")[0]["resumed_from_step"] == resumed_from[-1]
        assert _complete(run) == complete, fault  # every earlier checkpoint is still there and loads
        if "checkpoint_save" in fault:  # the torn save is there, but only as a temp folder
            assert list(layout.checkpoints.glob(".step-6.tmp")) and not layout.checkpoint(6).exists()
        resumed_from.append(resume_at)

    # A real kill -9 from outside, at whatever moment step 7's events are followed by (step 8 or its check).
    proc = worker(run)
    seen: list[dict] = []
    read_until(proc, lambda e: e["event"] == "step" and e["step"] >= 7, seen)
    os.kill(proc.pid, signal.SIGKILL)
    assert finish(proc, seen) == -signal.SIGKILL
    assert of(seen, "started")[0]["resumed_from_step"] == 6
    last = _complete(run)[-1]
    assert _complete(run)[:3] == [2, 4, 6] and last in (6, 8)
    resumed_from.append(last)

    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    assert of(events, "started")[0]["resumed_from_step"] == last
    assert not list(layout.checkpoints.glob(".step-*"))  # torn temp folders are cleaned on start

    history = file_events(run)
    assert [e["resumed_from_step"] for e in of(history, "started")] == resumed_from
    assert of(history, "finished")[-1]["status"] == "completed"
    expected = _losses(file_events(reference))
    got = _losses(history)
    assert sorted(got) == list(range(1, 11))
    for step, loss in got.items():
        assert loss == pytest.approx(expected[step], rel=1e-5, abs=1e-6), step

    mine = load_file(str(layout.adapter / "adapter_model.safetensors"))
    theirs = load_file(str(RunLayout(reference).adapter / "adapter_model.safetensors"))
    assert mine.keys() == theirs.keys() and mine
    for name, tensor in mine.items():
        assert tensor.allclose(theirs[name], rtol=1e-4, atol=1e-6), name


# The app starts the worker detached, as ui/worker_process.py's start_detached does: its own session,
# stdout discarded (events.jsonl carries them), stderr to the run folder.
APP_STAND_IN = """
import subprocess, sys, time
from tunedesk.core.launch import worker_command, worker_env
run = sys.argv[1]
with open(run + "/stderr.log", "ab") as err:
    child = subprocess.Popen(worker_command("train", run), cwd=run, env=worker_env(), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
print(child.pid, flush=True)
time.sleep(600)
"""


def _app_training(run: Path) -> tuple[subprocess.Popen[str], int]:
    """The app, started, training `run` in a detached worker that has saved its first checkpoint."""
    app = subprocess.Popen(
        [sys.executable, "-c", APP_STAND_IN, str(run)], stdout=subprocess.PIPE, text=True, env=worker_env()
    )
    assert app.stdout is not None
    pid = int(app.stdout.readline())
    _wait_for(lambda: any(e["event"] == "checkpoint" for e in file_events(run)), "the first checkpoint")
    return app, pid


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def test_app_killed_the_run_goes_on_and_its_outcome_is_recorded(
    tmp_path: Path, tiny_model_dir: Path, data: Path
) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, data, **SETTINGS)
    app, pid = _app_training(run)
    app.kill()  # the app dies; the run, in its own session, goes on
    app.wait()
    _wait_for(lambda: not pid_alive(pid), "the worker to finish")
    # What the next start of the app reads: the run's own record, not the dead app's memory.
    (summary,) = list_runs(tmp_path)
    assert summary.status == "completed" and summary.step == summary.total_steps == 10
    assert summary.has_adapter and not RunLayout(run).pid.exists()


def test_app_and_worker_killed_together_the_run_offers_to_resume(
    tmp_path: Path, tiny_model_dir: Path, data: Path
) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, data, **SETTINGS)
    app, pid = _app_training(run)
    for proc in (pid, app.pid):  # a logout or a power cut ends both
        os.kill(proc, signal.SIGKILL)
    app.wait()
    _wait_for(lambda: not pid_alive(pid), "the worker to die")
    (summary,) = list_runs(tmp_path)
    assert summary.status == "crashed" and summary.resumable and summary.step >= 2
    last = _complete(run)[-1]
    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    assert of(events, "started")[0]["resumed_from_step"] == last
    assert summarize_run(run).status == "completed"
