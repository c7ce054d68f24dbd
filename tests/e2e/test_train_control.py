"""Pause, resume and cancel a live worker: through stdin, the run's control file, and signals."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tunedesk.core import status as run_status
from tunedesk.core.runs import RunLayout
from tunedesk.core.training.checkpoints import valid_checkpoints

from .train_helpers import finish, kinds, make_run, of, read_until, send, worker

pytestmark = pytest.mark.e2e

LONG = {"max_steps": 400, "eval_every": 100, "sample_prompts": 0}


def _assert_cancelled(run: Path, code: int, events: list[dict]) -> None:
    assert code == 3
    finished = of(events, "finished")[-1]
    assert finished["status"] == "cancelled"
    last = of(events, "step")[-1]["step"]
    assert finished["steps"] == last < 400
    # The step in flight was finished and saved: a resume continues exactly there.
    assert of(events, "checkpoint")[-1]["step"] == last
    assert valid_checkpoints(RunLayout(run))[-1][0] == last
    assert finished["final_checkpoint"] == str(run / "checkpoints" / f"step-{last}")
    assert (run / "adapter" / "adapter_model.safetensors").exists()
    assert not (run / "worker.pid").exists()


def test_cancel_via_stdin(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **LONG)
    proc = worker(run, stdin=subprocess.PIPE)
    seen: list[dict] = []
    read_until(proc, lambda e: e["event"] == "step" and e["step"] >= 2, seen)
    send(proc, "cancel")
    _assert_cancelled(run, finish(proc, seen), seen)


def test_sigterm_cancels_cleanly(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **LONG)
    proc = worker(run)
    seen: list[dict] = []
    read_until(proc, lambda e: e["event"] == "step", seen)
    proc.send_signal(signal.SIGTERM)
    _assert_cancelled(run, finish(proc, seen), seen)


def test_pause_resume_then_control_file_cancel(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    """Pause via stdin, resume via the control file (how a re-attached GUI talks), cancel via stdin."""
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **LONG)
    proc = worker(run, stdin=subprocess.PIPE)
    seen: list[dict] = []
    read_until(proc, lambda e: e["event"] == "step", seen)
    send(proc, "pause")
    paused = read_until(proc, lambda e: e["event"] in ("paused", "finished"), seen)
    assert paused["event"] == "paused"
    (run / "control").write_text("resume\n")
    resumed = read_until(proc, lambda e: e["event"] in ("resumed", "finished"), seen)
    assert resumed["event"] == "resumed" and resumed["step"] == paused["step"]
    assert not (run / "control").exists()  # read once, then deleted
    # Nothing trained while paused: the events between paused and resumed are not steps.
    between = kinds(seen[seen.index(paused) + 1 : seen.index(resumed)])
    assert "step" not in between
    after = read_until(proc, lambda e: e["event"] == "step", seen)
    assert after["step"] == paused["step"] + 1
    send(proc, "cancel")
    _assert_cancelled(run, finish(proc, seen), seen)


def test_eof_on_stdin_is_not_a_cancel(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, max_steps=3, eval_every=3, sample_prompts=0)
    proc = worker(run, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.close()  # the parent went away
    proc.stdin = None  # (so communicate() does not flush it)
    seen: list[dict] = []
    assert finish(proc, seen) == 0
    assert of(seen, "finished")[-1]["status"] == "completed"


def test_cancel_while_the_base_model_answers_general_prompts(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    """A cancel during rehearsal (the start's general answers) ends the run at the next batch, not after all."""
    env = {"TUNEDESK_MODELS": str(tmp_path / "models")}  # no cached answers: the base model must answer
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, general_data_fraction=0.5, **LONG)
    proc = worker(run, stdin=subprocess.PIPE, env=env)
    seen: list[dict] = []
    read_until(proc, lambda e: e["event"] == "log" and e.get("stage") == "general_answers", seen)
    send(proc, "cancel")
    assert finish(proc, seen) == run_status.EXIT_CANCELLED
    assert "started" not in kinds(seen) and seen[-1]["event"] == "finished"
    assert seen[-1]["status"] == "cancelled"
    progress = [e["fraction"] for e in seen if e["event"] == "log" and e.get("stage") == "general_answers"]
    assert progress[-1] < 1.0, progress  # cut short between batches
    assert not (run / "worker.pid").exists()
