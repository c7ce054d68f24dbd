"""Early stopping: a learning rate far too high makes validation loss rise; the best checkpoint survives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.runs import RunLayout
from tunedesk.core.training.checkpoints import valid_checkpoints

from .train_helpers import make_run, of, run_worker

pytestmark = pytest.mark.e2e


def test_rising_validation_loss_stops_early_and_keeps_best(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    run = make_run(
        tmp_path / "run", tiny_model_dir, chat_jsonl,
        max_steps=40, eval_every=2, learning_rate=0.5, lr_schedule="constant", warmup_ratio=0.0,
        early_stopping_patience=1, min_improvement=0.0, keep_checkpoints=1, sample_prompts=0,
    )  # fmt: skip
    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    finished = of(events, "finished")[-1]
    assert finished["status"] == "early_stopped" and "did not improve" in finished["stop_reason"]
    evals = [e for e in of(events, "eval") if e["step"] > 0]
    assert finished["steps"] < 40 and finished["steps"] == evals[-1]["step"]
    # Stopped at the first check that did not improve on the best.
    assert evals[-1]["is_best"] is False and all(e["is_best"] for e in evals[:-1])
    best = [e for e in evals if e["is_best"]][-1]
    assert finished["best_val_loss"] == best["val_loss"]
    # best/ holds the best step; its checkpoint survived pruning (keep 1) next to the final one.
    assert json.loads((run / "best" / "trainer_state.json").read_text())["step"] == best["step"]
    kept = [s for s, _ in valid_checkpoints(RunLayout(run))]
    assert kept == sorted({best["step"], finished["steps"]})
