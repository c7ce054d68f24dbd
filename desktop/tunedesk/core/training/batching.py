"""Batches in a deterministic order, padded per batch.

Each epoch visits the training examples in a permutation drawn from ``random.Random(seed, epoch)``, so a
position in the data stream is exactly ``(epoch, batch_index)``: a resumed run recomputes the permutation and
continues at the same batch, seeing the same examples in the same order as an uninterrupted run.

Padding is dynamic (to the longest row of each batch, on the right): with short chat rows that is most of the
speed-up over padding everything to seq_len.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

IGNORE_INDEX = -100


@dataclass
class Batch:
    input_ids: torch.Tensor  # (B, L)
    labels: torch.Tensor  # (B, L), IGNORE_INDEX where no loss is taken
    attention_mask: torch.Tensor  # (B, L), 1 on real tokens
    position_ids: torch.Tensor | None  # (B, L) for packed rows, else None
    real_tokens: int  # non-pad tokens (what tokens/s counts)
    label_tokens: int  # tokens that carry a loss (after the one-token shift)

    def to(self, device: torch.device | str) -> Batch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device, non_blocking=True)

        return Batch(
            move(self.input_ids),  # type: ignore[arg-type]
            move(self.labels),  # type: ignore[arg-type]
            move(self.attention_mask),  # type: ignore[arg-type]
            move(self.position_ids),
            self.real_tokens,
            self.label_tokens,
        )


def collate(examples: Sequence[Any], pad_id: int) -> Batch:
    """Pad a list of examples (with ``input_ids``, ``labels`` and optionally ``position_ids``) into a Batch."""
    width = max(len(ex.input_ids) for ex in examples)
    n = len(examples)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    packed = any(getattr(ex, "position_ids", None) is not None for ex in examples)
    positions = torch.zeros((n, width), dtype=torch.long) if packed else None
    for i, ex in enumerate(examples):
        k = len(ex.input_ids)
        input_ids[i, :k] = torch.as_tensor(list(ex.input_ids), dtype=torch.long)
        labels[i, :k] = torch.as_tensor(list(ex.labels), dtype=torch.long)
        mask[i, :k] = 1
        if positions is not None:
            pos = getattr(ex, "position_ids", None)
            positions[i, :k] = torch.as_tensor(list(pos) if pos is not None else range(k), dtype=torch.long)
    label_tokens = int((labels[:, 1:] != IGNORE_INDEX).sum())
    return Batch(input_ids, labels, mask, positions, int(mask.sum()), label_tokens)


@functools.lru_cache(maxsize=2)
def epoch_order(n: int, seed: int, epoch: int) -> tuple[int, ...]:
    """The example order of `epoch`: the same for the same (n, seed, epoch), on every machine."""
    order = list(range(n))
    # A string seed is hashed deterministically by random.Random (unlike hash() of a tuple across runs).
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return tuple(order)


@dataclass
class BatchPlan:
    """How the training examples are cut into micro-batches and optimizer steps."""

    n_examples: int
    batch_size: int
    grad_accum: int
    seed: int

    @property
    def batches_per_epoch(self) -> int:
        return max(1, math.ceil(self.n_examples / self.batch_size))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.batches_per_epoch / self.grad_accum))

    def total_steps(self, epochs: float, max_steps: int) -> int:
        if max_steps > 0:
            return max_steps
        return max(1, math.ceil(epochs * self.steps_per_epoch))

    def batch_indices(self, epoch: int, batch_index: int) -> list[int]:
        order = epoch_order(self.n_examples, self.seed, epoch)
        start = batch_index * self.batch_size
        return list(order[start : start + self.batch_size])

    def advance(self, epoch: int, batch_index: int) -> tuple[int, int]:
        batch_index += 1
        if batch_index >= self.batches_per_epoch:
            return epoch + 1, 0
        return epoch, batch_index

    def step_batches(self, epoch: int, batch_index: int) -> Iterator[tuple[int, int, list[int]]]:
        """The grad_accum micro-batches of one optimizer step starting at (epoch, batch_index).

        Yields (epoch, batch_index, example indices); a step may run across an epoch boundary, so epochs
        are steps, not boundaries, and the stream never repeats or skips an example.
        """
        for _ in range(self.grad_accum):
            yield epoch, batch_index, self.batch_indices(epoch, batch_index)
            epoch, batch_index = self.advance(epoch, batch_index)
