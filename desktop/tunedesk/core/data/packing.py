"""Pack several short examples into one sequence of at most seq_len tokens.

Each example's position_ids restart at 0. Give the model ``position_ids``, *no* ``attention_mask`` and
``use_cache=False`` (with a cache, even in training, the detection is skipped): transformers 5 then finds
the examples from the restarts (masking_utils.find_packed_sequence_indices) and builds a block-diagonal
causal mask for every attention implementation, so no token sees another example (tests/unit/
test_data_split.py checks this on a real model). The first token of every example is
unlabelled: after the causal shift it would otherwise be predicted from the previous example's last token.
To batch packs of different lengths, `padded()` fills with a pad "example" of its own (positions restart,
labels ignored) instead of an attention mask, which would switch the packed-sequence detection off.
Measure before using it: on a small CPU longer rows can cost more than padding (see FINDINGS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tunedesk.core.data.encode import IGNORE, Example


@dataclass
class PackedExample:
    input_ids: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    position_ids: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def boundaries(self) -> list[int]:
        """Start offset of each packed example."""
        return [i for i, p in enumerate(self.position_ids) if p == 0]

    def padded(self, length: int, pad_id: int) -> PackedExample:
        """A copy filled up to `length` with pad tokens that form their own unlabelled example."""
        extra = length - len(self)
        if extra <= 0:
            return PackedExample(list(self.input_ids), list(self.labels), list(self.position_ids))
        return PackedExample(
            self.input_ids + [pad_id] * extra,
            self.labels + [IGNORE] * extra,
            self.position_ids + list(range(extra)),
        )

    def add(self, example: Example) -> None:
        self.input_ids.extend(example.input_ids)
        self.labels.extend([IGNORE] + list(example.labels[1:]))
        self.position_ids.extend(range(len(example.input_ids)))


def pack_examples(examples: list[Example], seq_len: int) -> list[PackedExample]:
    """First-fit packing in the given order (deterministic). An example longer than seq_len is cut."""
    packs: list[PackedExample] = []
    for example in examples:
        if not example.input_ids:
            continue
        if len(example) > seq_len:
            example = Example(example.input_ids[:seq_len], example.labels[:seq_len], truncated=True)
        target = next((p for p in packs if len(p) + len(example) <= seq_len), None)
        if target is None:
            target = PackedExample()
            packs.append(target)
        target.add(example)
    return packs
