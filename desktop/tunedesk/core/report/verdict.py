"""The forgetting measure in plain words, for the GUI and the CLI.

The measure (core/training/forgetting.py) is the mean loss of the base model's own answers to held-out
general prompts, under the base and under the tuned model. A tuned model that still says what the base said
scores about the same; one that forgot scores higher. The difference of two mean token losses is the log of
their perplexity ratio, so the thresholds read as "the base's own answers became N% less likely per token":
up to 5% is noise between kernels and prompts, up to 25% is a visible drift, beyond that the model has lost
much of how it used to answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

UNCHANGED, SLIGHTLY_LOWER, MUCH_LOWER = "unchanged", "slightly lower", "much lower"
SLIGHT = math.log(1.05)  # perplexity of the base's answers up by 5%: within noise
MUCH = math.log(1.25)  # up by 25%: clearly answering differently


@dataclass(frozen=True)
class Verdict:
    level: str  # unchanged | slightly lower | much lower
    text: str  # one line for the user
    remedy: str  # what to do about it ("" when nothing)
    increase: float  # tuned minus base general loss


def forgetting_verdict(
    forgetting: dict[str, Any] | None, general_data_fraction: float | None = 0.0
) -> Verdict | None:
    """None when the run has no measure (cancelled, or no held-out rows)."""
    if not forgetting:
        return None
    base, tuned = forgetting.get("general_loss_base"), forgetting.get("general_loss_tuned")
    if base is None or tuned is None:
        return None
    increase = tuned - base
    if increase <= SLIGHT:
        level = UNCHANGED
    elif increase <= MUCH:
        level = SLIGHTLY_LOWER
    else:
        level = MUCH_LOWER
    text = (
        f"General ability: {level} than the base model"
        if level != UNCHANGED
        else ("General ability: unchanged from the base model")
    )
    text += f" (general loss {base:.3f} -> {tuned:.3f})."
    remedy = ""
    if level != UNCHANGED and general_data_fraction is None:  # the caller does not know the run's setting
        remedy = "To keep more of it, mix in (more) general data: raise general_data_fraction, e.g. to 0.3."
    elif level != UNCHANGED:
        suggested = 0.2 if general_data_fraction < 0.2 else min(0.5, round(general_data_fraction + 0.1, 2))
        remedy = (
            f"To keep more of it, mix in general data: general_data_fraction={suggested} "
            f"(now {general_data_fraction:g}), or train fewer steps / a lower learning rate."
        )
    return Verdict(level, text, remedy, increase)
