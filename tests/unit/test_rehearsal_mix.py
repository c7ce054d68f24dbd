"""Mixing the base model's stored general answers into training at the chosen fraction (core/training/rehearsal)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedesk.core.data import general_prompts as gp
from tunedesk.core.data.records import Record
from tunedesk.core.data.split import save_records
from tunedesk.core.presets.preset import Preset
from tunedesk.core.runs import RunConfig, RunLayout
from tunedesk.core.training.model_setup import load_padded_tokenizer, pick_precision
from tunedesk.core.training.prepare import PreparedData
from tunedesk.core.training.rehearsal import add_general_data


def chat(i: int, answer: str) -> Record:
    messages = [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": answer}]
    return Record(line=i, kind="chat", messages=messages)


def mix(tmp_path: Path, tiny_model_dir: Path, task_rows: int, **preset: object) -> PreparedData:
    """A run whose data folder already holds 100 general answers (so no model is needed): mix them in."""
    layout = RunLayout(tmp_path / f"run-{task_rows}")
    save_records([chat(i, f"General answer {i}.") for i in range(100)], layout.data / "general_train.jsonl")
    save_records([chat(i, "Held out.") for i in range(3)], layout.data / "general_heldout.jsonl")
    config = RunConfig(
        model=str(tiny_model_dir), data="-", preset=Preset.from_dict({"general_data_fraction": 0.2, **preset})
    )
    task = [chat(i, "PRODUCT=x") for i in range(task_rows)]
    data = PreparedData(task, [], [], [], train_tokens=0, truncated=0, dropped=0)
    tokenizer = load_padded_tokenizer(tiny_model_dir)
    return add_general_data(layout, config, tokenizer, None, data, pick_precision(config.preset, "cpu"))


def test_the_chosen_fraction_is_reached_by_repeating_answers(tmp_path: Path, tiny_model_dir: Path) -> None:
    # 1,000 task rows at 20% want 250 general rows; 100 answers, each used up to 3 times, give them.
    data = mix(tmp_path, tiny_model_dir, 1000)
    assert data.general_examples == len(data.train) == 250
    assert data.general_fraction_used == pytest.approx(0.2)
    assert gp.fraction_note(0.2, data.general_fraction_used) is None


def test_a_large_task_is_capped_and_says_what_it_got(tmp_path: Path, tiny_model_dir: Path) -> None:
    # 5,000 task rows want 1,250 general rows: 100 answers at most MAX_COPIES times each is 400, 7.4%.
    data = mix(tmp_path, tiny_model_dir, 5000, packing=True)
    assert data.general_examples == 100 * gp.MAX_COPIES  # rows, not the packed sequences that hold them
    assert len(data.train) < data.general_examples
    assert data.general_fraction_used == pytest.approx(400 / 5400, abs=1e-4)
    note = gp.fraction_note(0.2, data.general_fraction_used)
    assert note is not None and note.startswith("General data is 7% of the training mix, not the 20% chosen")


def test_nothing_is_mixed_at_fraction_zero(tmp_path: Path, tiny_model_dir: Path) -> None:
    data = mix(tmp_path, tiny_model_dir, 1000, general_data_fraction=0.0)
    assert data.general_examples == 0 and data.general_fraction_used == 0.0 and not data.train
    assert len(data.general_heldout) == 3  # the forgetting measure still has its rows
