"""What a run optimises, from its preset's ``objective``: next-token prediction on answers (sft) or the
preference between two answers (dpo); and the check that the data fits it."""

from __future__ import annotations

from typing import Any

from tunedesk.core.data.records import Record
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.training.dpo import DPOLoss
from tunedesk.core.training.loss import LossFunction


def loss_function(model: Any, preset: Preset) -> LossFunction:
    if preset.objective == "dpo":
        return DPOLoss(model, preset.method, preset.beta, preset.init_adapter or None)
    return LossFunction(model, preset.method)


def check_data_fits(records: list[Record], preset: Preset, data: str) -> None:
    """Preference pairs train DPO and only DPO: say so before loading a model for nothing."""
    pairs = any(r.kind == "pair" for r in records)
    if pairs and preset.objective != "dpo":
        raise TuneDeskError(
            f"{data} holds preference pairs (prompt, chosen, rejected), which teach a preference, not answers.",
            hint="Train them with the objective dpo: on the Train page, Objective under Show advanced settings "
            "(the automatic settings choose dpo for a pairs file); on the command line, --preset dpo.",
            kind="bad_data",
            where={"file": data, "field": "objective"},
        )
    if not pairs and preset.objective == "dpo":
        raise TuneDeskError(
            f"DPO learns from preference pairs, but {data} holds no pair.",
            hint='Give rows with "prompt", "chosen" and "rejected" (TRL\'s format), or train with the '
            "objective sft: on the Train page, Objective under Show advanced settings; on the command line, "
            "--set objective=sft or a preset other than dpo.",
            kind="bad_data",
            where={"file": data, "field": "objective"},
        )
