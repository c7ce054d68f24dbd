"""Data-parallel training on two CPU processes through accelerate's launcher (gloo): the same steps as one
process with the same global batch, rank 0 alone writing, and kill -9 of one rank ending the whole group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tunedesk.core.launch import worker_env
from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import decode, read_events
from tunedesk.core.runs import RunConfig, RunLayout, create_run, load_config
from tunedesk.core.training.checkpoints import valid_checkpoints
from tunedesk.core.training.launcher import train_command

from .train_helpers import FAST, of, read_until, run_worker, write_chat_jsonl

pytestmark = pytest.mark.e2e

# No dropout: two processes draw their masks over batches of 2, one process over batches of 4.
# 6 steps of 4 x 2 examples run past the end of the first epoch, into a partial last global batch.
SETTINGS = {**FAST, "max_steps": 6, "eval_every": 2, "lora_dropout": 0.0, "keep_checkpoints": 5,
            "grad_accum": 2, "precision": "fp32"}  # fmt: skip


def make_run(root: Path, model: Path, data: Path, processes: int, batch_size: int, **more: str) -> Path:
    preset = Preset.from_dict({**SETTINGS, "batch_size": batch_size, **more})
    config = RunConfig(model=str(model), data=str(data), preset=preset, device="cpu", processes=processes)
    return create_run(config, root).root


def launch(run: Path, stderr: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        train_command(RunLayout(run), load_config(run)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr.open("w"),
        text=True,
        env=worker_env(),
    )


def losses(events: list[dict]) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in of(events, "step")}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_chat_jsonl(tmp_path_factory.mktemp("data") / "tickets.jsonl")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, data: Path) -> list[dict]:
    """One process, global batch 4 x 2: the events of the run two processes must reproduce."""
    run = make_run(tmp_path_factory.mktemp("single") / "run", tiny_model_dir, data, 1, 4)
    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    return events


def rank_lines(log: Path, text: str) -> dict[int, int]:
    """{rank: how many of its log lines contain `text`} (other ranks tag their lines "[rank N]")."""
    counts: dict[int, int] = {}
    for line in log.read_text().splitlines():
        if text in line:
            rank = int(line.split("[rank ", 1)[1].split("]")[0]) if "[rank " in line else 0
            counts[rank] = counts.get(rank, 0) + 1
    return counts


def test_two_processes_match_one_and_survive_kill9_of_a_rank(
    tmp_path: Path,
    tiny_model_dir: Path,
    data: Path,
    reference: list[dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An empty answers cache, so the base model has to answer the held-out general prompts in this run.
    monkeypatch.setenv("TUNEDESK_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("TUNEDESK_FAULT", "slow_general_answers")  # rank 1 comes by while rank 0 answers
    run = make_run(tmp_path / "run", tiny_model_dir, data, 2, 2)
    proc = launch(run, tmp_path / "stderr.log")
    first: list[dict] = []
    read_until(proc, lambda e: e["event"] == "checkpoint" and e["step"] >= 2, first)
    read_until(proc, lambda e: e["event"] == "step" and e["step"] >= 3, first)
    ranks = [p for p in psutil.Process(proc.pid).children(recursive=True) if "tunedesk.worker" in p.cmdline()]
    assert len(ranks) == 2
    rank0 = json.loads(RunLayout(run).pid.read_text())["pid"]  # rank 0 alone writes worker.pid

    # kill -9 of the other rank: rank 0 notices at its next collective, reports it, and the launcher
    # tears the group down. Nothing is left running.
    (other,) = [p for p in ranks if p.pid != rank0]
    os.kill(other.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=120)
    first.extend(decode(line) for line in out.splitlines() if line.startswith("{"))
    assert proc.returncode != 0
    _, alive = psutil.wait_procs(ranks, timeout=60)
    assert not alive, f"ranks left running: {alive}"
    assert of(first, "error")[-1]["kind"] == "process_lost", of(first, "error")
    # Rank 0 alone answered the general prompts and wrote them; rank 1 waited and read its files.
    stderr = tmp_path / "stderr.log"
    assert rank_lines(stderr, "general prompts (once per base model") == {0: 1}, stderr.read_text()[-3000:]
    assert rank_lines(stderr, "rank 1 of 2") == {1: 1}  # rank 1's lines are in this log
    assert of(first, "finished")[-1]["status"] == "failed"

    # `tunedesk resume` starts two processes again (the run's config says so) from the last checkpoint.
    # A pause written to the control file reaches both ranks (rank 0 reads it and broadcasts it).
    last = valid_checkpoints(RunLayout(run))[-1][0]
    resumed = subprocess.Popen(
        [sys.executable, "-m", "tunedesk", "resume", str(run), "--json"],
        stdout=subprocess.PIPE, stderr=(tmp_path / "resume.log").open("w"), text=True, env=worker_env(),
    )  # fmt: skip
    second: list[dict] = []
    read_until(resumed, lambda e: e["event"] == "step", second)
    RunLayout(run).control.write_text("pause")
    read_until(resumed, lambda e: e["event"] == "paused", second)
    RunLayout(run).control.write_text("resume")
    out, _ = resumed.communicate(timeout=600)
    second.extend(decode(line) for line in out.splitlines() if line.startswith("{"))
    assert resumed.returncode == 0, (tmp_path / "resume.log").read_text()[-4000:]
    assert of(second, "finished")[-1]["status"] == "completed"
    assert of(second, "resumed")[0]["step"] == of(second, "paused")[0]["step"]

    # Rank 0 alone speaks and writes: one `started` per start, the file holding what stdout carried.
    assert [e["event"] for e in read_events(run / "events.jsonl")] == [e["event"] for e in first + second]
    starts = of(first + second, "started")
    assert [(e["world_size"], e["resumed_from_step"]) for e in starts] == [(2, None), (2, last)]
    assert of(reference, "started")[0]["world_size"] == 1
    # Each step saw the examples one process saw with the same global batch, and its loss is the mean
    # over all labelled tokens of both ranks; so are the validation scores; tokens of both ranks count.
    one = losses(reference)
    two = {**losses(first), **losses(second)}
    assert sorted(two) == list(range(1, 7))
    for step, loss in two.items():
        assert loss == pytest.approx(one[step], rel=2e-4), step
    val_one = {e["step"]: e["val_loss"] for e in of(reference, "eval")}
    val_two = {e["step"]: e["val_loss"] for e in of(first + second, "eval")}
    assert sorted(val_two) == sorted(val_one) == [0, 2, 4, 6]
    for step, loss in val_two.items():
        assert loss == pytest.approx(val_one[step], rel=2e-4), step
    assert of(second, "step")[-1]["trained_tokens"] == of(reference, "step")[-1]["trained_tokens"]
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    assert (run / "accelerate.yaml").is_file()
