"""Rehearsal and the forgetting measure in a real worker: mixing the base model's own general answers into
training keeps more of its general behaviour than not mixing, and every finished run's report says so in
numbers that are the events' own.

Why the tiny random model shows a real effect: the measure is the loss of the base model's own greedy answers
to held-out prompts. A random model's greedy answers are a degenerate pattern (one sub-word repeated), the
same for every prompt: that is its "general behaviour". Training on the ticket task moves the model away from
it (the loss of those answers rises). With rehearsal a quarter of the mix is the same model's answers to
*other* prompts, which keeps the pattern; the held-out prompts themselves are never trained on. So the test
checks the mechanism (mixing the base's own answers keeps its behaviour on unseen prompts); the starter test
below checks it on real answers. Same seed, data, steps and learning rate: the only
difference between the two runs is the mix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.data.general_prompts import HELDOUT_MEASURED
from tunedesk.core.report.build import REPORT_HTML, REPORT_JSON

from .train_helpers import make_run, of, run_worker

pytestmark = pytest.mark.e2e


def _increase(finished: dict) -> float:
    f = finished["forgetting"]
    return f["general_loss_tuned"] - f["general_loss_base"]


def _check_report_matches(run: Path, events: list[dict]) -> None:
    finished, started = of(events, "finished")[-1], of(events, "started")[-1]
    report = json.loads((run / REPORT_JSON).read_text(encoding="utf-8"))
    html = (run / REPORT_HTML).read_text(encoding="utf-8")
    assert report["general"]["general_loss_base"] == finished["forgetting"]["general_loss_base"]
    assert report["general"]["general_loss_tuned"] == finished["forgetting"]["general_loss_tuned"]
    assert report["general"]["general_examples"] == started["general_examples"]
    assert report["task"]["base_val_loss"] == finished["base_val_loss"] == of(events, "eval")[0]["val_loss"]
    assert report["task"]["best_val_loss"] == finished["best_val_loss"]
    assert report["timings"]["elapsed_seconds"] == finished["elapsed"]
    for value in (finished["base_val_loss"], finished["forgetting"]["general_loss_tuned"]):
        assert f"{value:.4f}" in html


@pytest.mark.timeout(1800)
def test_mixing_general_answers_forgets_less(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    env = {"TUNEDESK_MODELS": str(tmp_path / "models")}  # a fresh answer cache: this test pays for it once
    settings = {"max_steps": 12, "eval_every": 6, "learning_rate": 1e-3}
    plain = make_run(tmp_path / "plain", tiny_model_dir, chat_jsonl, general_data_fraction=0.0, **settings)
    code, plain_events, _, stderr = run_worker(plain, env=env, timeout=1200)
    assert code == 0, stderr[-3000:]
    mixed = make_run(tmp_path / "mixed", tiny_model_dir, chat_jsonl, general_data_fraction=0.25, **settings)
    code, mixed_events, _, stderr = run_worker(mixed, env=env, timeout=1200)
    assert code == 0, stderr[-3000:]

    # With 0 nothing is mixed; with 0.25 the general rows are a quarter of the training mix.
    p_start, m_start = of(plain_events, "started")[0], of(mixed_events, "started")[0]
    assert p_start["general_examples"] == 0 and not (plain / "data" / "general_train.jsonl").exists()
    assert m_start["general_examples"] == 14 and m_start["train_examples"] == 43 + 14
    assert (m_start["general_data_fraction"], m_start["general_fraction_used"]) == (0.25, round(14 / 57, 4))
    assert m_start["val_examples"] == p_start["val_examples"]  # validation stays task-only
    general_rows = (mixed / "data" / "general_train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(general_rows) == 14

    # The base model answered while the run started, with progress; the second run reused the held-out answers.
    progress = [e for e in plain_events if e["event"] == "log" and e.get("stage") == "general_answers"]
    assert progress and progress[-1]["fraction"] == 1.0
    asked = [e["message"] for e in mixed_events if e["event"] == "log" and "general prompts" in e["message"]]
    assert asked == ["the base model answers 14 general prompts (once per base model; cached)"]

    # Both measured on the same held-out answers under the same base; the mixed run forgot less.
    p_fin, m_fin = of(plain_events, "finished")[-1], of(mixed_events, "finished")[-1]
    assert p_fin["forgetting"]["general_loss_base"] == pytest.approx(m_fin["forgetting"]["general_loss_base"])
    assert 0 < m_fin["forgetting"]["prompts"] <= HELDOUT_MEASURED
    assert _increase(p_fin) > 0, p_fin["forgetting"]
    assert _increase(m_fin) < _increase(p_fin) - 0.1, (m_fin["forgetting"], p_fin["forgetting"])

    _check_report_matches(plain, plain_events)
    _check_report_matches(mixed, mixed_events)


# The starter model (SmolLM2-135M-Instruct) on the sample tickets: a few minutes on a busy 2-core CPU, most of
# it the base model answering 38 prompts with llama.cpp the first time (cached for later runs).
@pytest.mark.timeout(2400)
def test_starter_forgets_less_with_general_data(tmp_path: Path, starter_gguf: Path, chat_jsonl: Path) -> None:
    settings = {
        "max_steps": 10, "batch_size": 4, "grad_accum": 1, "learning_rate": 1e-3, "seq_len": 256,
        "lr_schedule": "constant", "warmup_ratio": 0.0, "eval_every": 10, "val_max": 8, "sample_prompts": 1,
        "sample_max_tokens": 16,
    }  # fmt: skip
    results = {}
    for fraction in (0.0, 0.25):
        run = make_run(
            tmp_path / f"run-{fraction}", "starter", chat_jsonl, general_data_fraction=fraction, **settings
        )
        code, events, _, stderr = run_worker(run, timeout=1800)
        assert code == 0, stderr[-3000:]
        results[fraction] = events
        _check_report_matches(run, events)
    assert of(results[0.0], "started")[0]["general_examples"] == 0
    assert of(results[0.25], "started")[0]["general_examples"] == 14
    plain, mixed = of(results[0.0], "finished")[-1], of(results[0.25], "finished")[-1]
    assert _increase(plain) > 0, plain["forgetting"]
    assert _increase(mixed) < _increase(plain), (mixed["forgetting"], plain["forgetting"])
