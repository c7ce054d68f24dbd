"""Checkpoints that survive kill -9 and power cuts, and resuming from them.

``checkpoints/step-N/`` holds the trainable weights in their standard format (a peft adapter:
adapter_config.json + adapter_model.safetensors, loadable with PeftModel.from_pretrained; for full
fine-tuning a whole model folder), ``optimizer.pt``, ``scheduler.pt``, ``rng.pt`` (python, numpy, torch and
CUDA generators), ``trainer_state.json`` and last the ``COMPLETE`` marker.

Everything is written into ``checkpoints/.step-N.tmp``, flushed to disk, then renamed into place, so a folder
named ``step-N`` is complete by construction; a folder without its marker or with an unreadable state (an
older TuneDesk, a disk error) is skipped on resume, never trusted. ``best/`` is an atomic copy of the
checkpoint with the lowest validation loss, without the optimizer (it is for export, not for resuming).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tunedesk.core.atomic import replace_dir_atomic, write_json_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.faults import maybe_crash, maybe_raise_os_error
from tunedesk.core.runs import RunLayout

log = logging.getLogger("tunedesk.training")

MARKER = "COMPLETE"
STATE_FILE = "trainer_state.json"
RESUME_ONLY = ("optimizer.pt", "scheduler.pt", "rng.pt", "scaler.pt")
_STEP_DIR = re.compile(r"^step-(\d+)$")


@dataclass
class TrainerState:
    """Where the run is, and what early stopping remembers. Saved in every checkpoint."""

    step: int = 0  # optimizer updates done
    epoch: int = 0  # data position of the next micro-batch: (epoch, batch_index)
    batch_index: int = 0
    total_steps: int = 0
    trained_tokens: int = 0
    elapsed: float = 0.0  # training seconds before this process (pauses not counted)
    base_val_loss: float | None = None
    best_val_loss: float | None = None
    best_step: int | None = None
    evals_without_improvement: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # every eval: {"step", "val_loss"}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainerState:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def rng_state() -> dict[str, Any]:
    """Every generator's state as tensors and plain values, so that torch.load(weights_only=True) reads it."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    name, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(
    layout: RunLayout,
    model: Any,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: TrainerState,
    scaler: Any = None,
    *,
    weights: dict[str, torch.Tensor] | None = None,
    optimizer_state: dict[str, Any] | None = None,
) -> Path:
    """Write checkpoint ``step-<state.step>`` atomically and return its final path.

    `weights` / `optimizer_state`: full tensors gathered from a sharded (FSDP) model, written in place of
    the model's and optimizer's own (sharded) state, so the files are those of a one-process run.
    """
    final = layout.checkpoint(state.step)
    tmp = layout.checkpoints / f".{final.name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    layout.checkpoints.mkdir(exist_ok=True)  # not parents: a deleted run folder must not come back half-empty
    tmp.mkdir()
    try:
        model.save_pretrained(tmp, safe_serialization=True, **({"state_dict": weights} if weights else {}))
        maybe_crash("crash_in_checkpoint_save", state.step)
        maybe_raise_os_error("in_checkpoint_save", state.step)
        torch.save(optimizer_state or optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        torch.save(rng_state(), tmp / "rng.pt")
        if scaler is not None:
            torch.save(scaler.state_dict(), tmp / "scaler.pt")
        write_json_atomic(tmp / STATE_FILE, state.to_dict())
        _fsync_tree(tmp)
        write_json_atomic(tmp / MARKER, {"step": state.step, "files": sorted(p.name for p in tmp.iterdir())})
        replace_dir_atomic(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk needs the space back; a torn folder helps nobody
        raise
    _fsync_dir(layout.checkpoints)
    return final


def read_state(folder: Path) -> TrainerState | None:
    """The trainer state of a complete checkpoint folder, or None when it is partial or unreadable."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        state = TrainerState.from_dict(data)
    except (OSError, ValueError, TypeError):
        return None
    missing = [name for name in marker.get("files", []) if not (folder / name).exists()]
    if missing or marker.get("step") != state.step:
        return None
    return state


def valid_checkpoints(layout: RunLayout) -> list[tuple[int, Path]]:
    """(step, folder) of every complete checkpoint, oldest first."""
    found: list[tuple[int, Path]] = []
    if not layout.checkpoints.is_dir():
        return found
    for path in layout.checkpoints.iterdir():
        m = _STEP_DIR.match(path.name)
        if not m or not path.is_dir():
            continue
        state = read_state(path)
        if state is None or state.step != int(m.group(1)):
            log.warning("ignoring incomplete checkpoint %s", path)
            continue
        found.append((state.step, path))
    return sorted(found)


def latest_checkpoint(layout: RunLayout) -> Path | None:
    found = valid_checkpoints(layout)
    return found[-1][1] if found else None


def clean_partial(layout: RunLayout) -> None:
    """Remove temp folders a crash left behind (they are never read, only in the way)."""
    if layout.checkpoints.is_dir():
        for path in layout.checkpoints.glob(".step-*.tmp"):
            shutil.rmtree(path, ignore_errors=True)
    for path in [*layout.root.glob(".best*"), layout.root / ".adapter.tmp"]:
        shutil.rmtree(path, ignore_errors=True)


def load_resume_files(folder: Path) -> dict[str, Any]:
    """optimizer / scheduler / rng (/ scaler) state of a checkpoint, read as tensors and plain values only
    (weights_only=True): a run folder from elsewhere whose files hold pickled code is refused, never run."""
    out = {}
    for name in RESUME_ONLY:
        path = folder / name
        if path.exists():
            try:
                out[name.removesuffix(".pt")] = torch.load(path, map_location="cpu", weights_only=True)
            except pickle.UnpicklingError as exc:
                raise TuneDeskError(
                    f"The checkpoint file {path} holds more than tensors and numbers, so TuneDesk refuses to "
                    "load it: such a file can run code on this computer.",
                    hint="Resume only runs TuneDesk wrote. Delete this checkpoint folder to resume from an "
                    "earlier one, or start a new run.",
                    kind="bad_checkpoint",
                    where={"file": str(path), "detail": str(exc).splitlines()[0][:200]},
                ) from None
    return out


def restore(
    folder: Path, model: Any, optimizer: Any, scheduler: Any, scaler: Any, *, full: bool
) -> tuple[TrainerState, dict[str, Any]]:
    """Load a complete checkpoint's weights (adapters; a full fine-tune was loaded from the folder already),
    optimizer, scheduler and scaler state. Returns its trainer state and the RNG state, which the caller
    restores last, after everything else that draws random numbers."""
    state = read_state(folder)
    if state is None:
        raise TuneDeskError(
            f"The checkpoint {folder} is incomplete.", kind="bad_checkpoint", where={"folder": str(folder)}
        )
    from tunedesk.core.training import sharding

    sharded = sharding.is_sharded(model)
    if not full and sharded:
        from safetensors.torch import load_file

        sharding.load_full_adapter(model, load_file(str(folder / "adapter_model.safetensors")), folder)
    elif not full:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        result = set_peft_model_state_dict(model, load_file(str(folder / "adapter_model.safetensors")))
        if getattr(result, "unexpected_keys", None):
            raise TuneDeskError(
                f"The checkpoint {folder} does not match this run's adapter settings.",
                hint="The preset was changed after the run started: start a new run instead of resuming.",
                kind="bad_checkpoint",
                where={"folder": str(folder)},
            )
    files = load_resume_files(folder)
    if sharded:
        sharding.load_full_optimizer(optimizer, files["optimizer"])
    else:
        optimizer.load_state_dict(files["optimizer"])
    scheduler.load_state_dict(files["scheduler"])
    if scaler is not None and "scaler" in files:
        scaler.load_state_dict(files["scaler"])
    return state, files["rng"]


def copy_best(layout: RunLayout, checkpoint: Path) -> Path:
    """Make ``best/`` an atomic copy of `checkpoint` (weights and state, not the optimizer)."""
    tmp = layout.root / ".best.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(checkpoint, tmp, ignore=shutil.ignore_patterns(*RESUME_ONLY))
    marker = json.loads((tmp / MARKER).read_text(encoding="utf-8"))
    marker["files"] = [f for f in marker.get("files", []) if f not in RESUME_ONLY]
    write_json_atomic(tmp / MARKER, marker)
    _fsync_tree(tmp)
    replace_dir_atomic(tmp, layout.best)
    return layout.best


def prune(layout: RunLayout, keep: int, best_step: int | None) -> list[Path]:
    """Delete all but the newest `keep` checkpoints; the best one is never deleted."""
    found = valid_checkpoints(layout)
    recent = {step for step, _ in found[-keep:]} if keep > 0 else set()
    removed = []
    for step, path in found:
        if step in recent or step == best_step:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
