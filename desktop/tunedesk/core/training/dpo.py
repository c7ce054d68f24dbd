"""Direct Preference Optimization (Rafailov et al. 2023) in TuneDesk's own loop.

For a pair (prompt x, chosen y_c, rejected y_r) the loss is

    -log sigmoid(beta * ((log pi(y_c|x) - log ref(y_c|x)) - (log pi(y_r|x) - log ref(y_r|x))))

with log-probabilities summed over the answer tokens only (the labels of encode.py). pi is the model being
trained; ref is the model as the run started, computed by the same model under no_grad: with the adapter
switched off (peft's ``disable_adapter``) for a new adapter, or with a frozen copy of the starting adapter
swapped in (init_adapter.AdapterSnapshot) when the run continues an earlier one, e.g. SFT then DPO. So no
second copy of the base weights is ever held.

``beta * (log pi - log ref)`` is an answer's implicit reward. Steps and evaluations report the mean reward
margin (chosen minus rejected) and ``preference_accuracy``: the share of pairs whose chosen answer has the
higher reward. The recipe's arithmetic is unchanged: a batch's "label count" is its number of pairs, so the
step loss and the validation loss are means per pair.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from tunedesk.core.protocol import PREFERENCE_FIELDS
from tunedesk.core.training.batching import Batch, collate
from tunedesk.core.training.init_adapter import AdapterSnapshot
from tunedesk.core.training.loss import LossFunction


class DPOLoss(LossFunction):
    """``loss_fn(batch) -> (sum of per-pair DPO losses, pair count)``; batches come from `collate`.

    Args:
        model: a peft model (the reference is computed through its adapter switch).
        method: the preset's method (lora, dora, ...).
        beta: how far the model may move from the reference: larger keeps it closer.
        reference_adapter: the adapter the run started from (None: a new adapter; the reference is the base).
    """

    objective = "dpo"

    def __init__(self, model: Any, method: str, beta: float, reference_adapter: str | Path | None = None):
        super().__init__(model, method)
        self.beta = beta
        self.snapshot = AdapterSnapshot(model, reference_adapter) if reference_adapter else None
        self._rewards: list[torch.Tensor] = []  # (pairs, 2): chosen, rejected rewards since the last pop

    def collate(self, examples: Sequence[Any], pad_id: int) -> Batch:
        """One batch of 2n rows: the n chosen sides, then the n rejected sides."""
        batch = collate([p.chosen for p in examples] + [p.rejected for p in examples], pad_id)
        batch.label_tokens = len(examples)  # the recipe divides by this: the loss is a mean per pair
        return batch

    def __call__(self, batch: Batch) -> tuple[torch.Tensor, int]:
        n = batch.input_ids.shape[0] // 2
        with torch.no_grad(), self.reference():
            ref = self.sequence_logps(batch)
        policy = self.sequence_logps(batch)
        chosen = self.beta * (policy[:n] - ref[:n])
        rejected = self.beta * (policy[n:] - ref[n:])
        losses = -F.logsigmoid(chosen - rejected)
        self._rewards.append(torch.stack([chosen, rejected], dim=1).detach().float().cpu())
        return losses.sum(), n

    def sequence_logps(self, batch: Batch) -> torch.Tensor:
        """Each row's log-probability of its labelled tokens, summed: shape (rows,)."""
        logits, targets, keep = self.labelled_logits(batch)
        token_logps = -F.cross_entropy(logits, targets, reduction="none")
        rows = keep.nonzero()[:, 0]
        return torch.zeros(keep.shape[0], device=token_logps.device).index_add(0, rows, token_logps)

    @contextlib.contextmanager
    def reference(self) -> Iterator[None]:
        """The model as the run started, in eval mode (the adapter's dropout would make it noisy)."""
        was_training = self.model.training
        self.model.eval()
        try:
            with self.snapshot.swapped_in() if self.snapshot else self.model.disable_adapter():
                yield
        finally:
            self.model.train(was_training)

    def pop_metrics(self) -> dict[str, float]:
        if not self._rewards:
            return {}
        rewards = torch.cat(self._rewards)
        self._rewards = []
        margin = rewards[:, 0] - rewards[:, 1]
        values = (
            float(margin.mean()),
            float((margin > 0).float().mean()),
            float(rewards[:, 0].mean()),
            float(rewards[:, 1].mean()),
        )
        return dict(zip(PREFERENCE_FIELDS, values, strict=True))
