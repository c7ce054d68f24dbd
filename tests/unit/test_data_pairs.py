"""Preference pairs (TRL's prompt/chosen/rejected format): detection, validation, quality report, split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.data import encode_records, inspect_dataset, load_dataset, load_records, save_records
from tunedesk.core.data.encode import PairExample
from tunedesk.core.errors import TuneDeskError

U = [{"role": "user", "content": "Q?"}]


def _write(tmp_path: Path, rows: list) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_every_trl_shape_loads_as_a_pair(tmp_path: Path) -> None:
    rows = [
        {"prompt": "Q1?", "chosen": "good", "rejected": "bad"},
        {"prompt": U, "chosen": [{"role": "assistant", "content": "good"}], "rejected": [{"role": "assistant", "content": "bad"}]},
        {"chosen": [*U, {"role": "assistant", "content": "g2"}], "rejected": [*U, {"role": "assistant", "content": "b2"}]},
    ]  # fmt: skip
    data = load_dataset(_write(tmp_path, rows))
    assert data.data_format == "preference" and not data.problems
    first, _, third = data.records
    assert first.kind == "pair"
    assert first.messages == [{"role": "user", "content": "Q1?"}, {"role": "assistant", "content": "good"}]
    assert first.rejected == [{"role": "user", "content": "Q1?"}, {"role": "assistant", "content": "bad"}]
    assert third.messages[:-1] == third.rejected[:-1] == U  # the implicit prompt is the shared part
    assert first.reference() == "good"  # sample answers and export checks compare with the chosen one


@pytest.mark.parametrize(
    ("row", "field", "kind"),
    [
        ({"prompt": "Q?", "chosen": "same", "rejected": " same "}, "rejected", "identical"),
        ({"prompt": "Q?", "chosen": "", "rejected": "bad"}, "chosen", "empty"),
        ({"prompt": "Q?", "chosen": "good", "rejected": [{"role": "assistant", "content": ""}]}, "rejected[0].content", "empty"),
        ({"prompt": "", "chosen": "good", "rejected": "bad"}, "prompt", "empty"),
        ({"prompt": "Q?", "chosen": "good"}, "rejected", "missing_field"),
        ({"chosen": "good", "rejected": "bad"}, "prompt", "missing_field"),
        ({"prompt": "Q?", "chosen": 3, "rejected": "bad"}, "chosen", "wrong_type"),
        ({"prompt": [*U, {"role": "assistant", "content": "a"}], "chosen": "g", "rejected": "b"}, "prompt[1]", "prompt_ends_with_answer"),
        ({"chosen": [*U, {"role": "assistant", "content": "g"}], "rejected": [{"role": "user", "content": "other"}, {"role": "assistant", "content": "b"}]}, "rejected", "different_prompts"),
        ({"prompt": "Q?", "chosen": [{"role": "robot", "content": "g"}], "rejected": "b"}, "chosen[0].role", "unknown_role"),
    ],
)  # fmt: skip
def test_bad_pairs_are_reported_by_line_and_field(tmp_path: Path, row: dict, field: str, kind: str) -> None:
    good = {"prompt": "Fine?", "chosen": "yes", "rejected": "no"}
    data = load_dataset(_write(tmp_path, [good, row]))
    assert len(data.records) == 1
    [problem] = data.problems
    assert (problem.line, problem.field, problem.kind, problem.severity) == (2, field, kind, "error")


def test_quality_report_of_pairs(tmp_path: Path, tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    rows = [
        {"prompt": f"Question {i}?", "chosen": f"Answer {i}.", "rejected": "Well, hello there!"}
        for i in range(12)
    ]
    rows += [rows[3], "{broken", {"prompt": "Q?", "chosen": "x", "rejected": "x"}]
    path = _write(tmp_path, rows)
    report = inspect_dataset(path, AutoTokenizer.from_pretrained(tiny_model_dir), seq_len=512)
    assert report.data_format == "preference" and report.usable_rows == 12 and report.total_rows == 15
    assert {p.kind for p in report.problems} == {"duplicate", "malformed_json", "identical"}
    assert report.duplicates == [[4, 13]]
    assert report.tokens is not None and report.tokens.min > 5
    assert "preference" in report.to_text()


def test_pairs_encode_on_the_final_answer_and_survive_the_split_files(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    convo = [*U, {"role": "assistant", "content": "earlier answer"}, {"role": "user", "content": "And now?"}]
    path = _write(tmp_path, [{"prompt": convo, "chosen": "new good", "rejected": "new bad"}])
    records = load_dataset(path).records
    save_records(records, tmp_path / "val.jsonl")
    assert load_records(tmp_path / "val.jsonl") == records
    [pair] = encode_records(records, tok, 512).examples
    assert isinstance(pair, PairExample)
    for side, text in ((pair.chosen, "new good"), (pair.rejected, "new bad")):
        labelled = [t for t, label in zip(side.input_ids, side.labels, strict=True) if label != -100]
        assert tok.decode(labelled).startswith(text)  # only the final answer (+ its end-of-turn token)
    # Too short a window cuts the answers away entirely: the pair is dropped, not trained on half.
    assert encode_records(records, tok, 16).examples == []


def test_the_sample_preference_pairs_load_cleanly() -> None:
    from tunedesk.core.paths import resources_dir

    data = load_dataset(resources_dir() / "sample_data" / "support_preferences.jsonl")
    assert data.data_format == "preference" and len(data.records) == 240 and not data.problems


def test_a_file_of_only_bad_pairs_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TuneDeskError) as info:
        load_dataset(_write(tmp_path, [{"prompt": "Q?", "chosen": "x", "rejected": "x"}]))
    assert info.value.where["line"] == 1 and "nothing to prefer" in info.value.message
