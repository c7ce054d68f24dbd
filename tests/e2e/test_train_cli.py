"""`tunedesk train`, `tunedesk resume` and `tunedesk runs` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tunedesk.core.launch import cli_command, worker_env
from tunedesk.core.protocol import decode

from .train_helpers import make_run, run_worker

pytestmark = pytest.mark.e2e


def tunedesk(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, env=worker_env(), timeout=timeout
    )


def test_train_json_then_runs_json(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    out = tmp_path / "run"
    proc = tunedesk(
        "train", "--model", str(tiny_model_dir), "--data", str(chat_jsonl), "--max-steps", "2", "--out", str(out),
        "--set", "eval_every=2", "--set", "sample_prompts=0", "--name", "cli test", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [decode(line) for line in proc.stdout.splitlines()]  # --json: nothing but events on stdout
    assert events[-1]["event"] in ("finished", "log")
    assert [e for e in events if e["event"] == "finished"][-1]["status"] == "completed"
    config = json.loads((out / "config.json").read_text())
    assert (
        config["preset"]["max_steps"] == 2
        and config["name"] == "cli test"
        and len(config["data_sha256"]) == 64
    )

    runs = tunedesk("runs", "--dir", str(tmp_path), "--json")
    assert runs.returncode == 0, runs.stderr
    (row,) = json.loads(runs.stdout)
    assert row["path"] == str(out) and row["status"] == "completed" and row["step"] == row["total_steps"] == 2
    assert row["best_val_loss"] is not None and row["has_adapter"]

    again = tunedesk("resume", str(out), "--json")
    assert again.returncode == 2 and json.loads(again.stdout)["error"]["kind"] == "nothing_to_resume"


def test_resume_a_crashed_run_from_the_cli(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, max_steps=4, eval_every=2, sample_prompts=0)
    code, _, _, _ = run_worker(run, env={"TUNEDESK_FAULT": "crash_after_step:3"})
    assert code == 137
    listed = json.loads(tunedesk("runs", "--dir", str(tmp_path), "--json").stdout)
    assert listed[0]["status"] == "crashed" and listed[0]["resumable"]
    proc = tunedesk("resume", str(run))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Resumed at step 2" in proc.stdout and "Training finished after 4 steps" in proc.stdout


def test_train_with_a_missing_dataset_exits_2_without_traceback(tmp_path: Path) -> None:
    proc = tunedesk("train", "--model", "starter", "--data", str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr and "What to do" in proc.stderr
