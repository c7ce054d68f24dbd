"""A complete training run in a real worker subprocess: the protocol events, the run folder, the adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.protocol import EVENT_FIELDS, PROTOCOL_VERSION

from .train_helpers import file_events, kinds, make_run, of, run_worker

pytestmark = pytest.mark.e2e


def test_complete_run_events_and_folder(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, max_steps=6, eval_every=3, save_every=0)
    code, events, stdout, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    assert "Traceback" not in stdout
    names = kinds(events)
    # Every line on stdout is an event of this protocol version with its required fields.
    for ev in events:
        assert ev["v"] == PROTOCOL_VERSION
        assert all(f in ev for f in EVENT_FIELDS[ev["event"]])
    # started, the base score at step 0, six steps with checks at 3 and 6, finished last.
    assert names.index("started") < names.index("eval") < names.index("step")
    assert names[-1] in ("finished", "log") and of(events, "finished")
    started = of(events, "started")[0]
    for field in (
        "config_digest",
        "trainable_params",
        "total_params",
        "train_examples",
        "val_examples",
        "train_tokens",
        "device",
        "method",
        "preset",
    ):
        assert started[field] not in (None, ""), field
    assert started["resumed_from_step"] is None
    assert started["total_steps"] == 6 and started["device"] == "cpu" and started["method"] == "lora"
    assert 0 < started["trainable_params"] < started["total_params"]

    steps = of(events, "step")
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5, 6]
    for s in steps:
        assert s["total_steps"] == 6 and s["loss"] > 0 and s["learning_rate"] > 0
        assert (
            s["tokens_per_second"] > 0
            and s["trained_tokens"] > 0
            and s["peak_memory_mb"] >= s["memory_mb"] > 0
        )
        assert s["grad_norm"] is not None and s["eta_seconds"] >= 0 and s["epoch"] > 0
    # trained_tokens counts real tokens only: strictly increasing by less than batch * longest row.
    assert all(b["trained_tokens"] > a["trained_tokens"] for a, b in zip(steps, steps[1:], strict=False))

    evals = of(events, "eval")
    assert [e["step"] for e in evals] == [0, 3, 6]
    assert evals[0]["is_best"] is False and evals[0]["best_val_loss"] is None
    for e in evals:
        assert e["val_loss"] > 0 and e["perplexity"] > 1
        assert len(e["samples"]) == 1 and set(e["samples"][0]) == {"prompt", "reference", "answer"}
        assert e["samples"][0]["reference"].startswith("PRODUCT=")
    best = min(evals[1:], key=lambda e: e["val_loss"])
    assert best["is_best"] is True

    ckpts = of(events, "checkpoint")
    assert [c["step"] for c in ckpts] == [3, 6]
    finished = of(events, "finished")[0]
    assert finished["status"] == "completed" and finished["steps"] == 6
    assert finished["base_val_loss"] == evals[0]["val_loss"]
    assert finished["best_val_loss"] == best["val_loss"]
    assert finished["final_checkpoint"] == str(run / "checkpoints" / "step-6")
    assert finished["best_checkpoint"] == str(run / "best") and finished["adapter_path"] == str(
        run / "adapter"
    )

    # events.jsonl holds the same events as stdout, in order.
    assert [(e["event"], e["t"]) for e in file_events(run)] == [(e["event"], e["t"]) for e in events]
    assert not (run / "worker.pid").exists()
    assert "training" in (run / "worker.log").read_text()
    # The split is stored for resumes: every row in exactly one part.
    train = (run / "data" / "train.jsonl").read_text().splitlines()
    val = (run / "data" / "val.jsonl").read_text().splitlines()
    assert len(train) + len(val) == 48 and started["val_examples"] == len(val)
    assert {json.loads(x)["line"] for x in train}.isdisjoint(json.loads(x)["line"] for x in val)
    # The run remembers the system prompt it trained with: in its started event and beside its split.
    assert started["system_prompt"] == "Summarize the ticket in one triage line."
    stored = json.loads((run / "data" / "system_prompt.json").read_text())
    assert stored == {
        "system_prompt": started["system_prompt"],
        "rows_with_it": len(train),
        "rows": len(train),
    }
    # The best checkpoint holds the weights of the best check; no optimizer (it is for export).
    best_state = json.loads((run / "best" / "trainer_state.json").read_text())
    assert best_state["step"] == best["step"] and not (run / "best" / "optimizer.pt").exists()


def test_adapter_is_standard_peft(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    """RUN_DIR/adapter loads with PeftModel.from_pretrained and reproduces the trained model's validation loss."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from tunedesk.core.data.encode import encode_records
    from tunedesk.core.data.split import load_records
    from tunedesk.core.training.batching import collate
    from tunedesk.core.training.model_setup import load_padded_tokenizer

    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, max_steps=4, eval_every=4, sample_prompts=0)
    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, run / "adapter").eval()
    tok = load_padded_tokenizer(run / "adapter")
    examples = encode_records(load_records(run / "data" / "val.jsonl"), tok, 128).examples
    batch = collate(examples, tok.pad_token_id)
    with torch.no_grad():
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits[:, :-1]
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), batch.labels[:, 1:].reshape(-1)
    )
    assert float(loss) == pytest.approx(of(events, "eval")[-1]["val_loss"], rel=1e-4)
