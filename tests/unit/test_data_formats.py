"""Every file type and data format is detected and normalised into the same Record shape."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tunedesk.core.data import Record, load_dataset

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
]
ROWS = {
    "openai_chat": [{"messages": CHAT}, {"messages": CHAT[1:]}],
    "sharegpt": [
        {
            "conversations": [
                {"from": "system", "value": "Be brief."},
                {"from": "human", "value": "What is 2+2?"},
                {"from": "gpt", "value": "4"},
            ]
        },
        {"conversations": [{"from": "human", "value": "What is 2+2?"}, {"from": "gpt", "value": "4"}]},
    ],
    "alpaca": [
        {"instruction": "Add the numbers.", "input": "2+2", "output": "4"},
        {"instruction": "What is 2+2?", "input": "", "output": "4"},
    ],
    "prompt_completion": [
        {"prompt": "What is 2+2?", "completion": "4"},
        {"prompt": "2+3?", "completion": "5"},
    ],
    "text": [{"text": "Northwind ships desks."}, {"text": "Returns are free."}],
}


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", list(ROWS))
def test_jsonl_formats_detected_and_normalised(tmp_path: Path, fmt: str) -> None:
    data = load_dataset(write_jsonl(tmp_path / "d.jsonl", ROWS[fmt]))
    assert (data.file_format, data.data_format) == ("jsonl", fmt)
    assert data.total_rows == 2 and len(data.records) == 2 and data.problems == []
    first = data.records[0]
    assert first.line == 1 and data.records[1].line == 2
    if fmt == "text":
        assert first.kind == "text" and first.text == "Northwind ships desks." and first.reference() == ""
        return
    assert first.kind == "chat" and first.text is None
    assert first.messages[-1] == {"role": "assistant", "content": "4"}
    assert first.reference() == "4"
    assert first.prompt_messages()[-1]["role"] == "user"


def test_openai_and_sharegpt_normalise_to_identical_messages(tmp_path: Path) -> None:
    a = load_dataset(write_jsonl(tmp_path / "a.jsonl", ROWS["openai_chat"])).records[0]
    b = load_dataset(write_jsonl(tmp_path / "b.jsonl", ROWS["sharegpt"])).records[0]
    assert a.messages == b.messages == CHAT


def test_alpaca_joins_instruction_and_input(tmp_path: Path) -> None:
    data = load_dataset(write_jsonl(tmp_path / "a.jsonl", ROWS["alpaca"]))
    assert data.records[0].messages[0] == {"role": "user", "content": "Add the numbers.\n\n2+2"}
    assert data.records[1].messages[0] == {"role": "user", "content": "What is 2+2?"}


def test_prompt_messages_stop_before_last_answer() -> None:
    turns = CHAT + [{"role": "user", "content": "And 3+3?"}, {"role": "assistant", "content": "6"}]
    rec = Record(1, "chat", messages=turns)
    assert rec.prompt_messages() == turns[:4] and rec.reference() == "6"


def test_json_list_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(ROWS["alpaca"], indent=2), encoding="utf-8")
    data = load_dataset(path)
    assert (data.file_format, data.data_format, len(data.records)) == ("json", "alpaca", 2)
    lines = path.read_text().splitlines()
    for rec in data.records:
        assert lines[rec.line - 1].strip() == "{"
    assert data.records[0].line == 2


@pytest.mark.parametrize("key", ["data", "rows", "examples"])
def test_json_object_with_list_of_rows(tmp_path: Path, key: str) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"version": 1, key: ROWS["prompt_completion"]}), encoding="utf-8")
    data = load_dataset(path)
    assert data.data_format == "prompt_completion" and len(data.records) == 2


def test_json_single_conversation_object(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"messages": CHAT}, indent=1), encoding="utf-8")
    data = load_dataset(path)
    assert len(data.records) == 1 and data.records[0].messages == CHAT


def test_csv_alpaca_with_quoted_multiline_field_reports_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        'instruction,input,output\n"Summarise",,"line one\nline two"\nSay hi,,hi\n', encoding="utf-8"
    )
    data = load_dataset(path)
    assert (data.file_format, data.data_format) == ("csv", "alpaca")
    assert [r.line for r in data.records] == [2, 4]  # the second row starts on file line 4
    assert data.records[0].reference() == "line one\nline two"


def test_csv_with_messages_as_json_cell(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    cell = json.dumps(CHAT).replace('"', '""')
    path.write_text(f'id,messages\n1,"{cell}"\n', encoding="utf-8")
    data = load_dataset(path)
    assert data.data_format == "openai_chat" and data.records[0].messages == CHAT


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS["openai_chat"] + ROWS["openai_chat"][:1]), path)
    data = load_dataset(path)
    assert (data.file_format, data.data_format) == ("parquet", "openai_chat")
    assert [r.line for r in data.records] == [1, 2]  # row 3 repeats row 1
    assert data.duplicates == [[1, 3]] and data.records[0].messages == CHAT


def test_txt_file_is_one_raw_text_document(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("First paragraph.\n\nSecond paragraph.\n", encoding="utf-8")
    data = load_dataset(path)
    assert (data.file_format, data.data_format) == ("txt", "text")
    assert [r.text for r in data.records] == ["First paragraph.\n\nSecond paragraph."]


def test_folder_of_notes(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.md").write_text("# A\nalpha", encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text("beta", encoding="utf-8")
    (tmp_path / "ignored.png").write_bytes(b"\x89PNG\x00\x00")
    data = load_dataset(tmp_path)
    assert (data.file_format, data.data_format) == ("folder", "text")
    assert [(r.line, r.text) for r in data.records] == [(1, "# A\nalpha"), (2, "beta")]


def test_shipped_notes_folder_loads() -> None:
    from tunedesk.core.data.sample import sample_notes_dir

    data = load_dataset(sample_notes_dir())
    assert data.data_format == "text" and 3 <= len(data.records) <= 5 and data.problems == []


def test_json_list_of_strings_is_raw_text(tmp_path: Path) -> None:
    path = tmp_path / "docs.json"
    path.write_text(json.dumps(["first document", "second document"]), encoding="utf-8")
    data = load_dataset(path)
    assert data.data_format == "text" and [r.text for r in data.records] == [
        "first document",
        "second document",
    ]


def test_utf16_csv_from_windows(tmp_path: Path) -> None:
    path = tmp_path / "excel-unicode.csv"
    path.write_bytes("prompt,completion\r\nCafé?,Oui\r\n".encode("utf-16"))
    data = load_dataset(path)
    assert data.problems == [] and data.records[0].messages[0]["content"] == "Café?"


def test_every_format_has_a_plain_name(tmp_path) -> None:
    from tunedesk.core.data import DATA_FORMATS, inspect_dataset
    from tunedesk.core.data.formats import FORMAT_NAMES, format_display_name

    assert set(FORMAT_NAMES) == set(DATA_FORMATS)
    assert format_display_name("openai_chat", "jsonl") == "Chat conversations in a JSON Lines file"
    assert format_display_name("text") == "Plain text"
    assert format_display_name("new_kind", "xml") == "New kind in a xml file"  # unknown ids still read
    path = tmp_path / "rows.jsonl"
    path.write_text('{"prompt": "2+2?", "completion": "4"}\n', encoding="utf-8")
    report = inspect_dataset(path)
    assert report.to_dict()["format_name"] == "Prompts with completions in a JSON Lines file"
    assert "Format: Prompts with completions in a JSON Lines file" in report.to_text()
