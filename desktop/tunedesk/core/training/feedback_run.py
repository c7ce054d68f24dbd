""" "Train on my feedback": a DPO run on top of the model being chatted with.

The chatted model is a run's export (``RUN_DIR/export/*.gguf``); the new run continues the adapter that
export was made from (`exported_checkpoint`: best/ or adapter/, from the GGUF's companion file or the run's
export events; best, else final, when neither says) on the same base model, with the shipped ``dpo``
preset, on the pairs the chat feedback made (core/chat/feedback.py). The data is split as for any run: a
held-out share for validation once there are enough pairs (data/split.py), everything trains below that.
The caller starts the worker on the returned run folder, as for any other run. `feedback_readiness` says
whether the chatted model has enough feedback for such a run, and in one line why not.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from tunedesk.core.chat.companion import read_companion
from tunedesk.core.chat.feedback import feedback_path
from tunedesk.core.data.split import MIN_ROWS_FOR_VAL
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset, load_preset_file, shipped_presets_dir
from tunedesk.core.presets.select import dpo_precision
from tunedesk.core.protocol import read_events
from tunedesk.core.runs import RunConfig, RunLayout, create_run, load_config
from tunedesk.core.training.init_adapter import CHECKPOINT_FOLDERS, resolve_init_adapter

# Below this many pairs everything would train and nothing be held out (data/split.py): no usual split.
MIN_FEEDBACK_PAIRS = MIN_ROWS_FOR_VAL


@dataclass(frozen=True)
class FeedbackReadiness:
    """Whether "Train on my feedback" can start for a chatted model; `reason` says why not ("" when ready)."""

    run_dir: Path | None
    pairs_file: Path | None
    pairs: int
    reason: str
    checkpoint: str | None = None  # the run's adapter the chatted model was exported from: best | final

    @property
    def ready(self) -> bool:
        return not self.reason


def feedback_readiness(model_file: str | Path) -> FeedbackReadiness:
    """What "Train on my feedback" would train for the chatted `model_file` (its run, its pairs), or why not."""
    if not str(model_file):
        return FeedbackReadiness(None, None, 0, "Open a model to chat with first.")
    pairs_file = feedback_path(Path(model_file).stem)  # the file the chat's feedback bar writes
    try:
        pairs = sum(1 for line in pairs_file.read_text(encoding="utf-8").splitlines() if line.strip())
    except FileNotFoundError:
        pairs = 0
    run_dir = run_of_model(model_file)
    checkpoint = exported_checkpoint(model_file, run_dir) if run_dir else None
    if run_dir is None:
        reason = (
            "Training on feedback needs a model TuneDesk trained: open one of your runs' exported models."
        )
    elif pairs < MIN_FEEDBACK_PAIRS:
        reason = (
            f"Training on your feedback needs {MIN_FEEDBACK_PAIRS} preference pairs, {pairs} so far: "
            "rate more answers (Good answer / Poor answer), or write better ones."
        )
    else:
        try:
            resolve_init_adapter(run_dir, checkpoint)
            reason = ""
        except TuneDeskError as err:
            reason = err.message
    return FeedbackReadiness(run_dir, pairs_file, pairs, reason, checkpoint)


def run_of_model(model_file: str | Path) -> Path | None:
    """The run folder an exported model file belongs to (RUN_DIR/export/... or RUN_DIR/...), or None."""
    for folder in Path(model_file).expanduser().resolve().parents:
        if (folder / "config.json").is_file() and (folder / "events.jsonl").is_file():
            return folder
    return None


def exported_checkpoint(model_file: str | Path, run_dir: str | Path) -> str | None:
    """Which of `run_dir`'s adapters the exported `model_file` was made from ("best" or "final"), as its
    export recorded it: the GGUF's companion file, else the export's `finished` event for that file (exports
    made before companions said so); None when neither says."""
    companion = read_companion(model_file)
    if companion is not None and companion.checkpoint in CHECKPOINT_FOLDERS:
        return companion.checkpoint
    target = Path(model_file).expanduser().resolve()
    for event in reversed(read_events(RunLayout(Path(run_dir)).export / "events.jsonl")):
        done = event.get("event") == "finished" and event.get("status") == "completed"
        path = event.get("gguf_path")
        if done and path and Path(path).expanduser().resolve() == target:
            found = event.get("checkpoint")
            return found if found in CHECKPOINT_FOLDERS else None
    return None


def feedback_run_config(
    run_dir: str | Path,
    pairs_file: str | Path,
    preset: Preset | None = None,
    checkpoint: str | None = None,
) -> RunConfig:
    """The config of a DPO run that continues `run_dir`'s adapter (its `checkpoint`, "best" or "final", when
    given: the one the chatted model was exported from) on the feedback in `pairs_file`."""
    run_dir, pairs_file = Path(run_dir), Path(pairs_file)
    if not pairs_file.is_file() or not pairs_file.read_text(encoding="utf-8").strip():
        raise TuneDeskError(
            "There is no feedback to train on yet.",
            hint="Give a thumbs up and down to two answers of one question, or write a better answer.",
            kind="bad_data",
            where={"file": str(pairs_file)},
        )
    earlier = load_config(run_dir)
    base = preset or _machine_precision(
        load_preset_file(shipped_presets_dir() / "dpo.toml"), run_dir, earlier
    )
    preset = dataclasses.replace(
        base,
        name=base.name if preset else "dpo",
        objective="dpo",
        init_adapter=str(resolve_init_adapter(run_dir, checkpoint)),
    )
    preset.validate()
    return RunConfig(
        model=earlier.model,
        data=str(pairs_file.resolve()),
        preset=preset,
        device=earlier.device,
        name=f"{earlier.name or run_dir.name} + feedback",
        allow_pickle=earlier.allow_pickle,
        trust_remote_code=earlier.trust_remote_code,
    )


def _machine_precision(preset: Preset, run_dir: Path, earlier: RunConfig) -> Preset:
    """The dpo preset at the precision the earlier run (`earlier`, its config) chose for the device it trained
    on (select_preset measured it): a CUDA GPU keeps its bf16/fp16; DPO off CUDA trains in fp32."""
    started = [e for e in read_events(RunLayout(run_dir).events) if e.get("event") == "started"]
    device = str(started[-1].get("device") or earlier.device) if started else earlier.device
    precision, _ = dpo_precision("dpo", device, earlier.preset.precision, "")
    return dataclasses.replace(preset, precision=precision)


def create_feedback_run(
    run_dir: str | Path,
    pairs_file: str | Path,
    preset: Preset | None = None,
    out: str | Path | None = None,
    checkpoint: str | None = None,
) -> RunLayout:
    """Write the DPO run's folder and config; start it with `launch.worker_command("train", layout.root)`."""
    return create_run(feedback_run_config(run_dir, pairs_file, preset, checkpoint), out)
