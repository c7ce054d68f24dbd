"""Starting a run from an earlier run's adapter (preset field ``init_adapter``): SFT first, then DPO on top,
or any sequence of fine-tunes (general -> domain -> task).

The earlier adapter is loaded as the run's trainable adapter and training continues from its weights, so
the run's own adapter holds everything learnt so far: export merges that one adapter into the base, chat and
verification see the whole chain, and a later run can start from this one in turn. The adapter's own
settings (rank, alpha, target layers, LoRA or DoRA) come with it; the preset's adapter fields do not apply.

`AdapterSnapshot` keeps a frozen copy of the starting adapter's weights (a LoRA of a small model: a few MB)
for DPO's reference model: swapping it in place of the trained weights for one no-grad forward pass gives
the model as the run started, without a second copy of the base weights.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tunedesk.core.errors import TuneDeskError

log = logging.getLogger("tunedesk.training")

REFERENCE = "tunedesk_reference"  # a temporary adapter name, never saved


# A run's adapters by the name export gives them (`tunedesk export --checkpoint best|final`).
CHECKPOINT_FOLDERS = {"best": "best", "final": "adapter"}


def resolve_init_adapter(path: str | Path, checkpoint: str | None = None) -> Path:
    """The adapter folder for `path`: an adapter folder itself, or a run folder (its best/, else adapter/).

    best/ first, as export does by default; `checkpoint` ("best" or "final") takes that adapter only: the one
    a model was exported from, so that training on its chat feedback continues the model that was chatted with.
    """
    folder = Path(path).expanduser()
    if checkpoint in CHECKPOINT_FOLDERS:
        wanted = folder / CHECKPOINT_FOLDERS[checkpoint]
        if (wanted / "adapter_config.json").is_file():
            return wanted.resolve()
        raise TuneDeskError(
            f"The {checkpoint} adapter ({wanted.name}/) that the chatted model was exported from is no longer "
            f"in {folder}.",
            hint="Export the run again (Export page, or `tunedesk export`) and chat with the new file.",
            kind="missing_adapter",
            where={"field": "init_adapter", "folder": str(wanted)},
        )
    for candidate in (folder, folder / "best", folder / "adapter"):
        if (candidate / "adapter_config.json").is_file():
            return candidate.resolve()
    raise TuneDeskError(
        f"{folder} holds no trained adapter (looked for adapter_config.json in it, in best/ and in adapter/).",
        hint="Give a finished LoRA/DoRA run's folder (see `tunedesk runs`) or its adapter folder.",
        kind="missing_adapter",
        where={"field": "init_adapter", "folder": str(folder)},
    )


def load_init_adapter(model: Any, path: str | Path) -> Any:
    """`model` (a plain transformers model) wrapped with the trainable adapter found at `path`."""
    from peft import PeftModel

    folder = resolve_init_adapter(path)
    try:
        wrapped = PeftModel.from_pretrained(model, str(folder), is_trainable=True)
    except (ValueError, RuntimeError, KeyError) as exc:
        raise TuneDeskError(
            f"The adapter in {folder} does not fit this model: {exc}",
            hint="Start from a run trained on the same base model (`tunedesk train --from-run RUN` takes "
            "the model from that run).",
            kind="bad_setting",
            where={"field": "init_adapter", "folder": str(folder)},
        ) from None
    log.info("continuing from the adapter in %s (its rank and layers; the preset's do not apply)", folder)
    return wrapped


class AdapterSnapshot:
    """A frozen copy of an adapter's weights, as stored in its folder, that can stand in for the live ones."""

    def __init__(self, model: Any, path: str | Path) -> None:
        folder = resolve_init_adapter(path)
        # peft's own loader names the weights as the live adapter's are named, whatever the method.
        model.load_adapter(str(folder), adapter_name=REFERENCE, is_trainable=False)
        try:
            live = dict(model.named_parameters())
            marker, active = f".{REFERENCE}.", f".{model.active_adapter}."
            self._pairs = [
                (live[name.replace(marker, active)], param.detach().clone())
                for name, param in live.items()
                if marker in name
            ]
        finally:
            model.delete_adapter(REFERENCE)
        trainable = sum(1 for p in model.parameters() if p.requires_grad)
        if len(self._pairs) != trainable or not self._pairs:
            raise TuneDeskError(
                f"The adapter in {folder} has {len(self._pairs)} weight tensors, the run's adapter {trainable}.",
                hint="Resume only with the settings the run started with, or start a new run.",
                kind="bad_setting",
                where={"field": "init_adapter", "folder": str(folder)},
            )

    @contextlib.contextmanager
    def swapped_in(self) -> Iterator[None]:
        """Inside: the model computes with the snapshot's weights (for no-grad passes only)."""
        self._swap()
        try:
            yield
        finally:
            self._swap()

    def _swap(self) -> None:
        import torch  # here, not at the top: the GUI resolves adapters (feedback_run.py) without torch

        with torch.no_grad():
            for live, frozen in self._pairs:
                live.data, frozen.data = frozen.data, live.data
