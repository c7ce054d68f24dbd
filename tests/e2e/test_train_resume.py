"""Crash, kill -9 and power-cut safety: resume continues exactly where an uninterrupted run would be."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tunedesk.core.runs import RunLayout
from tunedesk.core.training.checkpoints import valid_checkpoints

from .train_helpers import RESUMABLE, file_events, finish, make_run, of, read_until, run_worker, worker

pytestmark = pytest.mark.e2e

SETTINGS = RESUMABLE


def _losses(events: list[dict]) -> dict[int, float]:
    # A later event for the same step (after a resume) replaces the earlier one, as a curve redraw does.
    return {e["step"]: e["loss"] for e in of(events, "step")}


@pytest.fixture
def reference(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> dict[int, float]:
    run = make_run(tmp_path / "reference", tiny_model_dir, chat_jsonl, **SETTINGS)
    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    return _losses(events)


def test_kill9_then_resume_matches_uninterrupted(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path, reference: dict[int, float]
) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **SETTINGS)
    proc = worker(run)
    seen: list[dict] = []
    ckpt = read_until(proc, lambda e: e["event"] == "checkpoint" and e["step"] >= 4, seen)
    read_until(proc, lambda e: e["event"] == "step" and e["step"] > ckpt["step"], seen)
    os.kill(proc.pid, signal.SIGKILL)
    assert finish(proc, seen) == -signal.SIGKILL
    last_valid = valid_checkpoints(RunLayout(run))[-1][0]
    assert last_valid >= ckpt["step"]

    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    started = of(events, "started")[0]
    assert started["resumed_from_step"] == last_valid
    resumed = _losses(events)
    assert min(resumed) == last_valid + 1 and max(resumed) == 10
    for step, loss in resumed.items():
        assert loss == pytest.approx(reference[step], rel=1e-5, abs=1e-6), step
    # events.jsonl simply continues: one history from step 1 to 10, a second `started` marking the resume.
    history = file_events(run)
    assert [e["resumed_from_step"] for e in of(history, "started")] == [None, last_valid]
    assert sorted(_losses(history)) == list(range(1, 11))
    assert of(history, "finished")[-1]["status"] == "completed"
    # The base score was measured once, before the first step, and is reported again at the end.
    assert [e["step"] for e in of(history, "eval")].count(0) == 1
    assert of(history, "finished")[-1]["base_val_loss"] == of(history, "eval")[0]["val_loss"]


def test_crash_inside_checkpoint_save_resumes_from_previous(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path, reference: dict[int, float]
) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **SETTINGS)
    code, events, _, _ = run_worker(run, env={"TUNEDESK_FAULT": "crash_in_checkpoint_save:6"})
    assert code == 137
    assert [e["step"] for e in of(events, "checkpoint")] == [2, 4]
    layout = RunLayout(run)
    # Half of step 6 was written, but nothing that looks like a checkpoint.
    assert not (layout.checkpoints / "step-6").exists()
    assert list(layout.checkpoints.glob(".step-6*"))  # the torn temp folder is there, named as such
    assert [s for s, _ in valid_checkpoints(layout)] == [2, 4]

    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    assert of(events, "started")[0]["resumed_from_step"] == 4
    assert not list(layout.checkpoints.glob(".step-*"))  # cleaned up on start
    for step, loss in _losses(events).items():
        assert loss == pytest.approx(reference[step], rel=1e-5, abs=1e-6), step


def test_checkpoint_without_marker_is_ignored(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    """A step folder that lost its completion marker (disk error, old version) is never trusted."""
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **SETTINGS)
    code, _, _, _ = run_worker(run, env={"TUNEDESK_FAULT": "crash_after_step:5"})
    assert code == 137
    layout = RunLayout(run)
    (layout.checkpoint(4) / "COMPLETE").unlink()
    assert [s for s, _ in valid_checkpoints(layout)] == [2]
    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    assert of(events, "started")[0]["resumed_from_step"] == 2
