"""Deterministic data order and dynamic padding."""

from __future__ import annotations

from dataclasses import dataclass

from tunedesk.core.training.batching import IGNORE_INDEX, BatchPlan, collate, epoch_order


@dataclass
class Ex:
    input_ids: list[int]
    labels: list[int]


def test_epoch_order_is_a_seeded_permutation() -> None:
    a = epoch_order(50, seed=42, epoch=0)
    assert sorted(a) == list(range(50))
    assert a == epoch_order(50, seed=42, epoch=0)
    assert a != epoch_order(50, seed=42, epoch=1)
    assert a != epoch_order(50, seed=43, epoch=0)


def test_positions_cover_every_example_once_per_epoch_across_step_boundaries() -> None:
    plan = BatchPlan(n_examples=10, batch_size=3, grad_accum=2, seed=1)
    assert plan.batches_per_epoch == 4 and plan.steps_per_epoch == 2
    assert plan.total_steps(epochs=2, max_steps=0) == 4 and plan.total_steps(epochs=2, max_steps=7) == 7
    seen: list[int] = []
    epoch, batch = 0, 0
    for _ in range(4):  # 8 micro-batches = 2 epochs
        for e, b, idx in plan.step_batches(epoch, batch):
            seen.extend(idx)
            epoch, batch = plan.advance(e, b)
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert (epoch, batch) == (2, 0)
    # A resume at a position gets exactly the batches an uninterrupted stream had there.
    assert plan.batch_indices(1, 2) == list(epoch_order(10, 1, 1)[6:9])


def test_collate_pads_per_batch_and_counts_real_and_labelled_tokens() -> None:
    batch = collate([Ex([1, 2, 3], [-100, 2, 3]), Ex([4, 5], [-100, 5])], pad_id=0)
    assert batch.input_ids.tolist() == [[1, 2, 3], [4, 5, 0]]
    assert batch.labels.tolist() == [[-100, 2, 3], [-100, 5, IGNORE_INDEX]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch.position_ids is None
    assert batch.real_tokens == 5 and batch.label_tokens == 3
