"""DPO end to end: SFT then DPO on top (tiny model, the CLI's --from-run), the merge of such a chain, and the
real starter model learning a preference in 20 steps, then exporting and verifying."""

from __future__ import annotations

import json
import math
import random
import subprocess
from pathlib import Path

import pytest

from tunedesk.core.launch import cli_command, worker_env
from tunedesk.core.protocol import PREFERENCE_FIELDS
from tunedesk.core.runs import RunLayout, load_config

from .train_helpers import file_events, make_run, of, run_worker

pytestmark = pytest.mark.e2e

CHATTY = [
    "Thanks for reaching out! I'm sorry to hear that.",
    "Hello! We will look into it soon. Have a nice day!",
]


def write_pairs(chat_jsonl: Path, out: Path) -> Path:
    """The chat rows as pairs: chosen = the triage line, rejected = a generic chatty answer."""
    rng = random.Random(0)
    rows = []
    for line in chat_jsonl.read_text().splitlines():
        messages = json.loads(line)["messages"]
        rejected = {"role": "assistant", "content": rng.choice(CHATTY)}
        rows.append({"prompt": messages[:-1], "chosen": [messages[-1]], "rejected": [rejected]})
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


def _cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, env=worker_env(), timeout=timeout
    )


def test_sft_then_dpo_on_top_and_the_merge_holds_both(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from tunedesk.core.export.merge import choose_adapter, merge_run

    sft = make_run(tmp_path / "sft", tiny_model_dir, chat_jsonl, max_steps=8, eval_every=4, sample_prompts=0)
    code, _, _, err = run_worker(sft)
    assert code == 0, err[-3000:]
    pairs = write_pairs(chat_jsonl, tmp_path / "pairs.jsonl")
    dpo = tmp_path / "dpo"
    proc = _cli(
        "train", "--from-run", str(sft), "--data", str(pairs), "--preset", "dpo", "--out", str(dpo),
        "--max-steps", "6", "--set", "eval_every=3", "--set", "sample_prompts=0", "--set", "batch_size=4",
        "--set", "grad_accum=1", "--set", "learning_rate=1e-3", "--set", "seq_len=128",
        "--set", "precision=fp32", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    config = load_config(dpo)
    assert config.model == str(tiny_model_dir) and config.preset.objective == "dpo"
    assert config.preset.init_adapter == str((sft / "best").resolve())
    events = file_events(dpo)
    assert of(events, "started")[0]["objective"] == "dpo"
    evals = of(events, "eval")
    # Step 0: the policy is the SFT model, and so is the reference.
    assert evals[0]["val_loss"] == pytest.approx(math.log(2), abs=1e-4) and evals[0]["reward_margin"] == 0
    assert evals[0]["perplexity"] is None
    for event in [*of(events, "step"), *evals]:
        assert all(isinstance(event[f], float) for f in PREFERENCE_FIELDS), event
    assert evals[-1]["preference_accuracy"] > 0.5 and evals[-1]["reward_margin"] > 0

    # The DPO run's adapter continued SFT's weights (a new adapter would share nothing with them) and moved.
    from safetensors.torch import load_file

    sft_weights = load_file(str(sft / "best" / "adapter_model.safetensors"))
    dpo_weights = load_file(str(dpo / "adapter" / "adapter_model.safetensors"))
    assert sorted(sft_weights) == sorted(dpo_weights)
    a = torch.cat([sft_weights[k].flatten() for k in sorted(sft_weights)])
    b = torch.cat([dpo_weights[k].flatten() for k in sorted(sft_weights)])
    assert float(torch.nn.functional.cosine_similarity(a, b, dim=0)) > 0.9 and not torch.equal(a, b)

    # Export's merge of the DPO run is the DPO model itself (SFT + DPO in one adapter).
    layout = RunLayout(dpo)
    choice = choose_adapter(layout, "final")
    merged = merge_run(layout, config, choice, tiny_model_dir, dpo / "export" / "merged", log=lambda _: None)
    ids = torch.tensor([[1, 200, 300, 400, 500, 600]])
    plain = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    from peft import PeftModel

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    tuned = PeftModel.from_pretrained(base, dpo / "adapter").eval()
    with torch.no_grad():
        assert torch.allclose(plain(ids).logits, tuned(ids).logits, atol=1e-4)


@pytest.mark.timeout(
    2400
)  # 20 steps, an export and its check of the starter: minutes, more on a loaded machine
def test_starter_learns_the_preference_in_20_steps_then_exports_and_verifies(tmp_path: Path) -> None:
    """The issue's bar: 20 DPO steps of the starter on the sample pairs (chosen: the triage line, rejected: a
    chatty reply) take held-out preference accuracy above 0.9; the run exports to GGUF and verifies."""
    from tunedesk.core.paths import resources_dir

    pairs = resources_dir() / "sample_data" / "support_preferences.jsonl"
    run = tmp_path / "run"
    proc = _cli(
        "train", "--model", "starter", "--data", str(pairs), "--preset", "dpo", "--out", str(run),
        "--max-steps", "20", "--set", "batch_size=4", "--set", "grad_accum=1", "--set", "eval_every=20",
        "--set", "sample_prompts=0", "--json", timeout=3000,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    evals = of(file_events(run), "eval")
    assert [e["step"] for e in evals] == [0, 20]
    assert evals[0]["preference_accuracy"] == 0.0  # policy == reference: no pair is preferred yet
    assert evals[-1]["preference_accuracy"] > 0.9, evals[-1]
    assert evals[-1]["reward_margin"] > 0 and evals[-1]["val_loss"] < math.log(2)

    export = _cli("export", str(run), "--quant", "q8_0", "--json", timeout=1800)
    assert export.returncode == 0, export.stdout[-3000:] + export.stderr[-3000:]
    result = json.loads(export.stdout)
    assert result["status"] == "completed" and result["verification"]["passed"], result["verification"]
    assert Path(result["gguf_path"]).read_bytes()[:4] == b"GGUF"
