"""The real thing: the starter model (SmolLM2-135M-Instruct) learns the sample dataset's triage format."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedesk.core.paths import sample_dataset

from .train_helpers import make_run, of, run_worker

pytestmark = pytest.mark.e2e


# About a minute on an idle 2-core CPU; the generous limit is for shared, busy CI machines.
@pytest.mark.timeout(2400)
def test_starter_model_validation_loss_falls_below_base(tmp_path: Path, starter_gguf: Path) -> None:
    run = make_run(
        tmp_path / "run", "starter", sample_dataset(),
        max_steps=12, batch_size=4, grad_accum=1, learning_rate=1e-3, seq_len=256, lr_schedule="constant",
        warmup_ratio=0.0, eval_every=12, val_max=16, sample_prompts=1, sample_max_tokens=24,
    )  # fmt: skip
    code, events, _, stderr = run_worker(run, timeout=1800)
    assert code == 0, stderr[-3000:]
    evals = of(events, "eval")
    base, final = evals[0], evals[-1]
    assert base["step"] == 0 and final["step"] == 12
    # Measurably better than the base model on held-out tickets, not a rounding difference.
    assert final["val_loss"] < base["val_loss"] * 0.8, (base["val_loss"], final["val_loss"])
    finished = of(events, "finished")[-1]
    assert finished["status"] == "completed" and finished["base_val_loss"] == base["val_loss"]
    assert (run / "adapter" / "adapter_model.safetensors").exists()
