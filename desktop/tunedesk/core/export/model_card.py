"""The merged model's README.md: where it came from, read back from the run's config and events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunedesk.core.protocol import read_events
from tunedesk.core.runs import RunConfig, RunLayout, file_sha256


def training_facts(layout: RunLayout, config: RunConfig) -> dict[str, Any]:
    """What the card records: base model, data digest, preset, steps, validation losses."""
    events = read_events(layout.events)
    steps = 0
    val_losses: list[tuple[int, float]] = []
    finished: dict[str, Any] = {}
    base_val = None
    for ev in events:
        if ev["event"] == "step":
            steps = max(steps, int(ev.get("step") or 0))
        elif ev["event"] == "eval" and ev.get("val_loss") is not None:
            val_losses.append((int(ev["step"]), float(ev["val_loss"])))
            if ev["step"] == 0 or ev.get("is_base"):
                base_val = float(ev["val_loss"])
        elif ev["event"] == "finished":
            finished = ev
    digest = config.data_sha256
    if not digest and layout.data.is_dir():
        digest = file_sha256(layout.data)
    return {
        "base_model": config.model,
        "data": config.data,
        "data_sha256": digest,
        "preset": config.preset.to_dict(),
        "steps": int(finished.get("steps") or steps),
        "status": finished.get("status", "unknown"),
        "base_val_loss": finished.get("base_val_loss", base_val),
        "best_val_loss": finished.get("best_val_loss"),
        "val_losses": val_losses,
    }


def _loss(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "not recorded"


def model_card(facts: dict[str, Any], *, adapter: Path, checkpoint: str, run_dir: Path) -> str:
    p = facts["preset"]
    curve = "\n".join(f"| {s} | {v:.4f} |" for s, v in facts["val_losses"]) or "| - | - |"
    return f"""---
base_model: {facts["base_model"]}
library_name: transformers
tags: [tunedesk, lora, merged]
---

# Fine-tuned {Path(str(facts["base_model"])).name}

Merged by TuneDesk from the run `{run_dir.name}`: the {checkpoint} adapter (`{adapter.name}/`) was merged into
the base model's weights in fp32 (never into quantized weights).

| | |
|---|---|
| Base model | `{facts["base_model"]}` |
| Training data | `{facts["data"]}` (sha256 `{facts["data_sha256"] or "unknown"}`) |
| Method | {p.get("method")} r={p.get("lora_r")} alpha={p.get("lora_alpha")} on {p.get("target_modules")} |
| Preset | {p.get("name")}: lr {p.get("learning_rate")}, batch {p.get("batch_size")} x {p.get("grad_accum")}, seq_len {p.get("seq_len")} |
| Steps | {facts["steps"]} ({facts["status"]}) |
| Validation loss before training | {_loss(facts["base_val_loss"])} |
| Best validation loss | {_loss(facts["best_val_loss"])} |

## Validation loss

| step | val_loss |
|---|---|
{curve}

The chat template is kept in `chat_template.jinja` / `tokenizer_config.json`; `generation_config.json` ends
generation at the end-of-turn token.
"""
