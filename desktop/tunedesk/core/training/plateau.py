"""When learning has stopped: the stop rule the trainer applies after each validation check.

Waiting for `patience` checks without a new best keeps a run going as long as the loss creeps down by
meaningless amounts (a default run on a 400-row task went on for its full 3 epochs from 0.0008 to 0.0006). So
the rule is a plateau of relative improvement: the best loss of the last `patience` checks must beat the best
before them by at least `min_improvement` of it (1% by default), and by at least MIN_ABSOLUTE nats per token,
below which a difference changes no answer (perplexity moves by under 0.5%). A run that diverges (NaN or inf)
has not improved. Decided from the checks' history alone, so a resumed run decides the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_ABSOLUTE = 0.005


@dataclass(frozen=True)
class Plateau:
    improvement: float  # best before the window minus best inside it (negative: worse)
    needed: float  # what would have counted as meaningful
    best: float  # the best loss so far
    checks: int  # the window: the last `patience` checks

    def sentence(self) -> str:
        """The plain words the log and the finished event carry."""
        if self.improvement <= 0:
            how = "did not improve"
        else:
            how = f"improved by only {self.improvement:.4g} ({self.improvement / (self.best + self.improvement):.1%})"
        return (
            f"Stopped early: validation loss {how} over the last {self.checks} checks (best {self.best:.4g}); "
            "learning had stopped, so more steps would only cost time and risk memorising."
        )


def _best(losses: Sequence[float | None]) -> float:
    finite = [x for x in losses if x is not None and math.isfinite(x)]
    return min(finite) if finite else math.inf


def plateau(history: Sequence[dict[str, Any]], patience: int, min_improvement: float) -> Plateau | None:
    """A Plateau when the last `patience` checks (after step 0) improved too little; None while learning goes on."""
    losses = [h.get("val_loss") for h in history if h.get("step", 0) > 0]
    if patience <= 0 or len(losses) <= patience:
        return None
    before, recent = _best(losses[:-patience]), _best(losses[-patience:])
    if not math.isfinite(before):
        return None
    needed = max(min_improvement * before, MIN_ABSOLUTE)
    improvement = before - recent if math.isfinite(recent) else -math.inf
    if improvement >= needed:
        return None
    return Plateau(improvement, needed, min(before, recent), patience)
