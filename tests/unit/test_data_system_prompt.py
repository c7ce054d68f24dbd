"""The training system prompt a run remembers: the most common one in its rows, or none."""

from __future__ import annotations

import json
from pathlib import Path

from tunedesk.core.data.records import Record
from tunedesk.core.data.split import save_records
from tunedesk.core.data.system_prompt import (
    FILE_NAME,
    save_system_prompt,
    stored_system_prompt,
    training_system_prompt,
)


def chat(system: str | None, line: int = 1) -> Record:
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages += [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    return Record(line=line, kind="chat", messages=messages)


def test_the_most_common_prompt_wins() -> None:
    rows = [chat("A"), chat("B"), chat("B"), chat(None), Record(line=9, kind="text", text="plain")]
    assert training_system_prompt(rows) == "B"


def test_rows_mostly_without_a_prompt_mean_none() -> None:
    # Those rows were rendered with the template's own default: that, not "A", is what the model learned.
    assert training_system_prompt([chat("A"), chat(None), chat(None), chat("   ")]) is None
    assert training_system_prompt([]) is None


def test_a_tie_goes_to_the_first_seen() -> None:
    assert training_system_prompt([chat("A"), chat("B"), chat("B"), chat("A")]) == "A"


def test_a_system_message_later_in_the_chat_is_not_the_prompt() -> None:
    row = Record(line=1, kind="chat", messages=[
        {"role": "user", "content": "hi"}, {"role": "system", "content": "late"},
        {"role": "assistant", "content": "x"},
    ])  # fmt: skip
    assert training_system_prompt([row]) is None


def test_stored_beside_the_split_and_read_back(tmp_path: Path) -> None:
    rows = [chat("Answer in one line.", i) for i in range(1, 4)] + [chat(None, 4)]
    assert save_system_prompt(tmp_path, rows) == "Answer in one line."
    stored = json.loads((tmp_path / FILE_NAME).read_text())
    assert stored == {"system_prompt": "Answer in one line.", "rows_with_it": 3, "rows": 4}
    assert stored_system_prompt(tmp_path) == "Answer in one line."


def test_a_run_older_than_the_file_is_read_from_its_train_split(tmp_path: Path) -> None:
    save_records([chat("Old run's prompt.", 1), chat("Old run's prompt.", 2)], tmp_path / "train.jsonl")
    assert stored_system_prompt(tmp_path) == "Old run's prompt."
    assert not (tmp_path / FILE_NAME).exists()  # reading never writes into a run folder


def test_missing_or_damaged_means_no_prompt(tmp_path: Path) -> None:
    assert stored_system_prompt(tmp_path / "nothing") is None
    (tmp_path / FILE_NAME).write_text("{broken")
    assert stored_system_prompt(tmp_path) is None
    (tmp_path / FILE_NAME).write_text('{"system_prompt": null}')
    assert stored_system_prompt(tmp_path) is None
