"""Learning-rate schedules as multipliers of the preset's learning rate, for torch's LambdaLR.

Steps are optimizer updates, counted from 0 (LambdaLR calls the function with the number of updates done so
far), so the lr of update ``s`` (0-based) is ``learning_rate * multiplier(s)``. No schedule reaches exactly 0
on a step that is still trained: an update with lr 0 would be wasted work.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tunedesk.core.presets.preset import SCHEDULES


def lr_multiplier(
    schedule: str, total_steps: int, warmup_ratio: float = 0.0, decay_ratio: float = 0.1
) -> Callable[[int], float]:
    """The multiplier function for `schedule` over `total_steps` updates.

    - ``wsd``: linear warm-up, constant, then linear decay over the last ``decay_ratio`` of the steps.
    - ``cosine``: linear warm-up, then half a cosine down towards 0.
    - ``linear``: linear warm-up, then a straight line down towards 0.
    - ``constant``: linear warm-up, then constant.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}")
    total = max(1, int(total_steps))
    warmup = min(total - 1, round(warmup_ratio * total)) if warmup_ratio > 0 else 0
    decay = max(1, round(decay_ratio * total)) if decay_ratio > 0 else 0
    decay_start = total - decay

    def multiplier(step: int) -> float:
        if step < warmup:
            # (step + 1) so the first update already moves the weights a little.
            return (step + 1) / (warmup + 1)
        if schedule == "constant":
            return 1.0
        if schedule == "wsd":
            if decay and step >= decay_start:
                return max(0.0, (total - step) / (decay + 1))
            return 1.0
        progress = (step - warmup) / max(1, total - warmup)
        if schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return max(0.0, 1.0 - progress)  # linear

    return multiplier
