"""The shipped general prompts and the choices made from them (rehearsal rows, held-out measure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.data import general_prompts as gp
from tunedesk.core.errors import TuneDeskError


def test_shipped_prompts_are_many_varied_and_split() -> None:
    prompts = gp.load_general_prompts()
    assert len(prompts) >= 300
    assert len({p.id for p in prompts}) == len(prompts)
    assert len({p.prompt for p in prompts}) == len(prompts)
    held = [p for p in prompts if p.split == "heldout"]
    assert len(held) >= 60
    assert {p.category for p in held} == {p.category for p in prompts}  # every kind is measured
    assert len({p.category for p in prompts}) >= 7


def test_training_picks_never_hold_out_and_are_stable() -> None:
    prompts = gp.load_general_prompts()
    picked = gp.pick_training_prompts(prompts, 50, seed=42)
    assert len(picked) == 50 and all(p.split == "train" for p in picked)
    assert picked == gp.pick_training_prompts(prompts, 50, seed=42)
    assert picked != gp.pick_training_prompts(prompts, 50, seed=7)
    measured = gp.pick_heldout_prompts(prompts)
    assert len(measured) == gp.HELDOUT_MEASURED and all(p.split == "heldout" for p in measured)
    assert len({p.category for p in measured}) >= 6


@pytest.mark.parametrize(
    ("task", "fraction", "general"),
    [(100, 0.0, 0), (80, 0.2, 20), (43, 0.25, 14), (216, 0.2, 54), (1, 0.5, 1)],
)
def test_general_rows_are_the_fraction_of_the_mix(task: int, fraction: float, general: int) -> None:
    assert gp.general_count(task, fraction) == general


def test_bad_prompts_file_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    rows = [
        {"id": "a", "category": "x", "split": "train", "prompt": "hi"},
        {"id": "b", "category": "x", "split": "dev", "prompt": "yo"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(TuneDeskError) as err:
        gp.load_general_prompts(path)
    assert err.value.where == {"file": str(path), "line": 2, "field": "split"}
    path.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(TuneDeskError) as err:
        gp.load_general_prompts(path)
    assert err.value.where["line"] == 1


def test_empty_answers_make_no_rows() -> None:
    prompts = gp.load_general_prompts()[:3]
    records = gp.answered_records(prompts, {prompts[0].id: "Paris.", prompts[1].id: "  "})
    assert len(records) == 1 and records[0].reference() == "Paris."
    assert records[0].prompt_messages() == [{"role": "user", "content": prompts[0].prompt}]
