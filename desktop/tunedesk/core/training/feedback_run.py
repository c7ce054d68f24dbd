""" "Train on my feedback": a DPO run on top of the model being chatted with.

The chatted model is a run's export (``RUN_DIR/export/*.gguf``); the new run continues that run's adapter
(init_adapter: its best, else final, as the export used) on the same base model, with the shipped ``dpo``
preset, on the pairs the chat feedback made (core/chat/feedback.py). The data is split as for any run: a
held-out share for validation once there are enough pairs (data/split.py), everything trains below that.
The caller starts the worker on the returned run folder, as for any other run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset, load_preset_file, shipped_presets_dir
from tunedesk.core.runs import RunConfig, RunLayout, create_run, file_sha256, load_config
from tunedesk.core.training.init_adapter import resolve_init_adapter


def run_of_model(model_file: str | Path) -> Path | None:
    """The run folder an exported model file belongs to (RUN_DIR/export/... or RUN_DIR/...), or None."""
    for folder in Path(model_file).expanduser().resolve().parents:
        if (folder / "config.json").is_file() and (folder / "events.jsonl").is_file():
            return folder
    return None


def feedback_run_config(
    run_dir: str | Path, pairs_file: str | Path, preset: Preset | None = None
) -> RunConfig:
    """The config of a DPO run that continues `run_dir`'s adapter on the feedback in `pairs_file`."""
    run_dir, pairs_file = Path(run_dir), Path(pairs_file)
    if not pairs_file.is_file() or not pairs_file.read_text(encoding="utf-8").strip():
        raise TuneDeskError(
            "There is no feedback to train on yet.",
            hint="Give a thumbs up and down to two answers of one question, or write a better answer.",
            kind="bad_data",
            where={"file": str(pairs_file)},
        )
    earlier = load_config(run_dir)
    base = preset or load_preset_file(shipped_presets_dir() / "dpo.toml")
    preset = dataclasses.replace(
        base,
        name=base.name if preset else "dpo",
        objective="dpo",
        init_adapter=str(resolve_init_adapter(run_dir)),
    )
    preset.validate()
    return RunConfig(
        model=earlier.model,
        data=str(pairs_file.resolve()),
        preset=preset,
        device=earlier.device,
        name=f"{earlier.name or run_dir.name} + feedback",
        data_sha256=file_sha256(pairs_file),
        allow_pickle=earlier.allow_pickle,
        trust_remote_code=earlier.trust_remote_code,
    )


def create_feedback_run(
    run_dir: str | Path, pairs_file: str | Path, preset: Preset | None = None, out: str | Path | None = None
) -> RunLayout:
    """Write the DPO run's folder and config; start it with `launch.worker_command("train", layout.root)`."""
    return create_run(feedback_run_config(run_dir, pairs_file, preset), out)
