"""Seeded split sizes and determinism, the run folder's JSONL round trip, and packing boundaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.data import Example, Record, load_records, pack_examples, save_records, split_records
from tunedesk.core.errors import TuneDeskError


def records(n: int) -> list[Record]:
    return [
        Record(
            i + 1,
            "chat",
            messages=[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}],
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("n", "kwargs", "sizes"),
    [
        (9, {}, (9, 0, 0)),  # below 10 rows: no validation at all
        (10, {}, (9, 1, 0)),
        (14, {}, (13, 1, 0)),  # at least one
        (240, {}, (216, 24, 0)),
        (5000, {}, (4800, 200, 0)),  # capped at val_max
        (5000, {"val_max": 50}, (4950, 50, 0)),
        (100, {"test_fraction": 0.1}, (80, 10, 10)),
        (100, {"val_fraction": 0.0}, (100, 0, 0)),
    ],
)
def test_split_sizes(n: int, kwargs: dict, sizes: tuple[int, int, int]) -> None:
    s = split_records(records(n), **kwargs)
    assert (len(s.train), len(s.val), len(s.test)) == sizes
    lines = [r.line for r in s.train + s.val + s.test]
    assert sorted(lines) == list(range(1, n + 1))  # a partition: nothing lost, nothing twice


def test_split_is_deterministic_per_seed_and_keeps_file_order() -> None:
    data = records(300)
    a, b, c = split_records(data, seed=7), split_records(data, seed=7), split_records(data, seed=8)
    assert [r.line for r in a.val] == [r.line for r in b.val]
    assert [r.line for r in a.val] != [r.line for r in c.val]
    assert [r.line for r in a.train] == sorted(r.line for r in a.train)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    data = records(3) + [Record(7, "text", text="raw notes\nwith ünïcode")]
    path = save_records(data, tmp_path / "run" / "data" / "train.jsonl")
    assert load_records(path) == data
    assert [json.loads(line)["line"] for line in path.read_text(encoding="utf-8").splitlines()] == [
        1,
        2,
        3,
        7,
    ]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left behind


def test_load_records_reports_damage_with_line(tmp_path: Path) -> None:
    path = save_records(records(2), tmp_path / "val.jsonl")
    path.write_text(
        path.read_text() + '{"line": 3, "kind": "chat", "messages": [{"role": "bot"', encoding="utf-8"
    )
    with pytest.raises(TuneDeskError) as info:
        load_records(path)
    assert info.value.where == {"file": str(path), "line": 3}
    with pytest.raises(TuneDeskError, match="Cannot read"):
        load_records(tmp_path / "missing.jsonl")


def ex(n: int, start: int, label_from: int = 0) -> Example:
    ids = list(range(start, start + n))
    return Example(ids, [-100] * label_from + ids[label_from:])


def test_packing_restarts_positions_and_masks_boundaries() -> None:
    examples = [ex(5, 100), ex(4, 200, label_from=2), ex(8, 300), ex(3, 400)]
    packs = pack_examples(examples, seq_len=12)
    assert [len(p) for p in packs] == [12, 8]  # 5+4+3 first-fit, then 8 alone
    first = packs[0]
    assert first.input_ids == list(range(100, 105)) + list(range(200, 204)) + list(range(400, 403))
    assert first.position_ids == [0, 1, 2, 3, 4, 0, 1, 2, 3, 0, 1, 2]
    assert first.boundaries == [0, 5, 9]
    # No label at an example's first token: it would be predicted from the previous example's last token.
    assert first.labels == [-100, 101, 102, 103, 104, -100, -100, 202, 203, -100, 401, 402]
    assert all(len(p.input_ids) == len(p.labels) == len(p.position_ids) <= 12 for p in packs)


def test_packing_cuts_an_example_longer_than_seq_len() -> None:
    (pack,) = pack_examples([ex(20, 0)], seq_len=8)
    assert pack.input_ids == list(range(8)) and pack.position_ids == list(range(8))


def test_padded_pack_forms_its_own_unlabelled_example() -> None:
    (pack,) = pack_examples([ex(3, 10), ex(2, 20)], seq_len=8)
    padded = pack.padded(8, pad_id=0)
    assert padded.input_ids == [10, 11, 12, 20, 21, 0, 0, 0]
    assert padded.position_ids == [0, 1, 2, 0, 1, 0, 1, 2]
    assert padded.labels[5:] == [-100] * 3 and padded.boundaries == [0, 3, 5]
    assert pack.padded(4, 0).input_ids == pack.input_ids


def test_a_real_model_keeps_packed_examples_apart(tiny_model_dir: Path) -> None:
    """Packed logits equal each example's logits run alone: no token attends across a boundary."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    a, b = ex(7, 1000), ex(5, 2000)
    (pack,) = pack_examples([a, b], seq_len=16)
    padded = pack.padded(16, pad_id=0)
    with torch.no_grad():
        # use_cache=False: with a cache transformers does not look for packed sequences (a generation setup).
        packed = model(
            input_ids=torch.tensor([padded.input_ids]),
            position_ids=torch.tensor([padded.position_ids]),
            use_cache=False,
        ).logits[0]
        alone_a = model(input_ids=torch.tensor([a.input_ids])).logits[0]
        alone_b = model(input_ids=torch.tensor([b.input_ids])).logits[0]
    torch.testing.assert_close(packed[:7], alone_a, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(packed[7:12], alone_b, atol=1e-4, rtol=1e-4)
    # Without position_ids the same row is one long sequence: b's logits change. The check above can fail.
    with torch.no_grad():
        joined = model(input_ids=torch.tensor([padded.input_ids])).logits[0]
    assert not torch.allclose(joined[7:12], alone_b, atol=1e-4)
