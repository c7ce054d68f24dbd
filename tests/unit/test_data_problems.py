"""Bad input: every problem is reported with its line, field and kind; bad rows never stop the good ones,
and a file with nothing usable raises TuneDeskError (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.data import load_dataset
from tunedesk.core.errors import TuneDeskError

GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}


def chat(user: str, answer: object, role: str = "assistant") -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": role, "content": answer}]}


def problems_by_line(data) -> dict[int, tuple[str | None, str, str]]:
    return {p.line: (p.field, p.kind, p.severity) for p in data.problems}


def test_each_bad_row_kind_is_reported_with_line_and_field(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),  # 1
        '{"messages": [{"role": "user", "content": "Hi"}',  # 2 malformed
        json.dumps({"messages": "hello"}),  # 3 wrong type
        json.dumps(chat("Q", "")),  # 4 empty answer
        json.dumps(chat("Q", "A", role="bot")),  # 5 unknown role
        json.dumps({"messages": [{"role": "user", "content": "Only a question"}]}),  # 6 no final answer
        json.dumps(chat("Q", 42)),  # 7 wrong type of content
        json.dumps({"prompt": "P", "completion": "C"}),  # 8 other format
        json.dumps(GOOD),  # 9 exact duplicate of 1
        json.dumps([1, 2]),  # 10 not an object
        json.dumps({"messages": [{"content": "no role"}, {"role": "assistant", "content": "x"}]}),  # 11
        json.dumps(chat("Fine", "Kept")),  # 12
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_dataset(path)
    assert [r.line for r in data.records] == [1, 12]
    assert data.total_rows == 12
    got = problems_by_line(data)
    assert got == {
        2: (None, "malformed_json", "error"),
        3: ("messages", "wrong_type", "error"),
        4: ("messages[1].content", "empty", "error"),
        5: ("messages[1].role", "unknown_role", "error"),
        6: ("messages[0]", "no_final_answer", "error"),
        7: ("messages[1].content", "wrong_type", "error"),
        8: ("messages", "missing_field", "error"),
        9: (None, "duplicate", "error"),
        10: (None, "wrong_type", "error"),
        11: ("messages[0].role", "missing_field", "error"),
    }
    messages = {p.line: p.message for p in data.problems}
    assert "unknown role 'bot'" in messages[5]
    assert "looks like prompt_completion" in messages[8]
    assert "line 1" in messages[9] and data.duplicates == [[1, 9]]


def test_bom_crlf_blank_lines_are_harmless(tmp_path: Path) -> None:
    path = tmp_path / "win.jsonl"
    body = "\r\n".join([json.dumps(GOOD), "", "   ", json.dumps(chat("Again", "Yes"))]) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    data = load_dataset(path)
    assert data.problems == [] and [r.line for r in data.records] == [1, 4]
    assert data.records[0].messages == GOOD["messages"]


def test_truncated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(chat("Q", "A"))[:25], encoding="utf-8")
    data = load_dataset(path)
    (problem,) = data.problems
    assert (problem.line, problem.kind) == (2, "malformed_json") and "cut off" in problem.message


def test_latin1_bytes_are_replaced_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    row = json.dumps(chat("Café?", "Oui"), ensure_ascii=False)
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + row.encode("latin-1") + b"\n")
    data = load_dataset(path)
    (problem,) = data.problems
    assert (problem.line, problem.kind, problem.severity) == (2, "encoding", "warning")
    assert "UTF-8" in problem.message
    assert data.records[1].messages[0]["content"] == "Caf\ufffd?"


def test_json_array_with_one_bad_object(tmp_path: Path) -> None:
    rows = [
        json.dumps(GOOD, indent=2),
        '{\n  "messages": [ {"role": "user" "content": "x"} ]\n}',
        json.dumps(chat("B", "b"), indent=2),
    ]
    text = "[\n" + ",\n".join("\n".join("  " + ln for ln in r.splitlines()) for r in rows) + "\n]\n"
    path = tmp_path / "arr.json"
    path.write_text(text, encoding="utf-8")
    data = load_dataset(path)
    bad_line = next(i for i, ln in enumerate(text.splitlines(), 1) if '"user" "content"' in ln)
    assert [(p.line, p.kind) for p in data.problems] == [(bad_line, "malformed_json")]
    assert [r.reference() for r in data.records] == ["Hello", "b"]


def test_json_array_with_object_missing_a_field(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    rows = [{"instruction": "a", "output": "b"}, {"instruction": "c"}, {"instruction": "d", "output": "e"}]
    path.write_text("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]", encoding="utf-8")
    data = load_dataset(path)
    assert [(p.line, p.field, p.kind) for p in data.problems] == [(3, "output", "missing_field")]
    assert len(data.records) == 2


def test_csv_row_with_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("prompt,completion\nA,a\nB\nC,c,extra\n", encoding="utf-8")
    data = load_dataset(path)
    got = [(p.line, p.kind, p.severity) for p in data.problems]
    assert got == [(3, "wrong_columns", "error"), (4, "wrong_columns", "warning")]
    assert [r.line for r in data.records] == [2, 4]


def test_csv_missing_output_column_raises_with_field(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("instruction,input\nSay hi,\nSay bye,\n", encoding="utf-8")
    with pytest.raises(TuneDeskError) as info:
        load_dataset(path)
    assert info.value.where == {"file": str(path), "line": 2, "field": "output"}
    assert "no usable row" in info.value.message and info.value.hint


def test_csv_without_known_columns(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("question,answer\nA,a\n", encoding="utf-8")
    with pytest.raises(TuneDeskError) as info:
        load_dataset(path)
    assert "question" in info.value.message and "instruction" in info.value.hint


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.jsonl", b"", "empty"),
        ("blank.jsonl", b"\n\n  \n", "empty"),
        ("junk.jsonl", bytes(range(256)) * 8, "binary"),
        ("junk.parquet", b"not parquet at all", "Parquet"),
        ("all-bad.jsonl", b"{oops\n[1,\n", "No row"),
        ("broken.json", b'{"name": "x",, "data": 3}', "not valid JSON"),
    ],
)
def test_unusable_files_raise_readable_errors(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TuneDeskError) as info:
        load_dataset(path)
    assert words in str(info.value) and info.value.hint and info.value.where["file"] == str(path)
    assert info.value.kind == "bad_data"


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(TuneDeskError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(TuneDeskError, match="no .txt or .md"):
        load_dataset(tmp_path)


def test_folder_with_empty_and_binary_notes(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("alpha", encoding="utf-8")
    (tmp_path / "b.md").write_text("", encoding="utf-8")
    (tmp_path / "c.txt").write_bytes(b"\x00\x01\x02" * 100)
    data = load_dataset(tmp_path)
    assert [(p.source, p.kind) for p in data.problems] == [("b.md", "empty"), ("c.txt", "binary")]
    assert len(data.records) == 1 and data.total_rows == 3


def test_jsonl_saved_as_json_is_read_as_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(chat("Q", "A")) + "\n{bad\n", encoding="utf-8")
    data = load_dataset(path)
    assert data.file_format == "jsonl" and len(data.records) == 2
    assert [(p.line, p.kind) for p in data.problems] == [(3, "malformed_json")]


def test_lines_with_trailing_commas_are_kept_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "pasted.jsonl"
    path.write_text(json.dumps(GOOD) + ",\n" + json.dumps(chat("Q", "A")) + "\n", encoding="utf-8")
    data = load_dataset(path)
    assert len(data.records) == 2
    assert [(p.line, p.kind, p.severity) for p in data.problems] == [(1, "trailing_comma", "warning")]


def test_python_dicts_get_a_specific_hint(tmp_path: Path) -> None:
    path = tmp_path / "repr.jsonl"
    path.write_text(str({"prompt": "a", "completion": "b"}) + "\n", encoding="utf-8")
    with pytest.raises(TuneDeskError, match="looks like a Python dict") as info:
        load_dataset(path)
    assert info.value.where["line"] == 1


@pytest.mark.parametrize(("name", "sep"), [("semi.csv", ";"), ("tabs.tsv", "\t"), ("pipes.csv", "|")])
def test_csv_delimiters(tmp_path: Path, name: str, sep: str) -> None:
    path = tmp_path / name
    path.write_text(f"instruction{sep}output\nSay hi, please{sep}hi\n", encoding="utf-8")
    data = load_dataset(path)
    assert data.data_format == "alpaca" and data.records[0].messages[0]["content"] == "Say hi, please"


@pytest.mark.parametrize("suffix", [".xlsx", ".docx", ".pdf"])
def test_office_files_say_what_to_do(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"data{suffix}"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(TuneDeskError) as info:
        load_dataset(path)
    assert suffix in info.value.message and (".txt" in info.value.hint or "CSV" in info.value.hint)


def test_tool_calls_are_reported_as_unsupported(tmp_path: Path) -> None:
    turns = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
        {"role": "tool", "content": "sunny"},
        {"role": "assistant", "content": "Sunny."},
    ]
    path = write_rows(tmp_path / "tools.jsonl", [{"messages": turns}, GOOD])
    data = load_dataset(path)
    assert [(p.line, p.field, p.kind) for p in data.problems] == [(1, "messages[1]", "unsupported")]


def test_json_object_holding_rows_under_a_row_key(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"conversations": [GOOD, chat("Q", "A")]}, indent=2), encoding="utf-8")
    data = load_dataset(path)
    assert data.data_format == "openai_chat" and len(data.records) == 2 and data.problems == []


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_non_utf8_note_in_a_folder_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("alpha", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("line one\nna\u00efve caf\u00e9\n".encode("latin-1"))
    data = load_dataset(tmp_path)
    (problem,) = data.problems
    assert (problem.source, problem.line, problem.kind, problem.severity) == (
        "b.txt",
        2,
        "encoding",
        "warning",
    )
    assert data.records[1].text == "line one\nna\ufffdve caf\ufffd"
    assert problem.to_text().startswith("b.txt, line 2:")


def test_json_object_with_rows_and_one_bad_object(tmp_path: Path) -> None:
    good = json.dumps({"prompt": "a", "completion": "b"})
    text = (
        '{\n  "rows": [\n    '
        + good
        + ',\n    {"prompt": "c" "completion": "d"},\n    '
        + good.replace("a", "e")
        + "\n  ]\n}\n"
    )
    path = tmp_path / "wrapped.json"
    path.write_text(text, encoding="utf-8")
    data = load_dataset(path)
    assert [r.line for r in data.records] == [3, 5]
    assert [(p.line, p.kind) for p in data.problems] == [(4, "malformed_json")]


def test_json_cut_off_in_the_middle_keeps_the_complete_rows(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(
        '{"data": [\n{"prompt": "a", "completion": "b"},\n{"prompt": "c", "comp', encoding="utf-8"
    )
    data = load_dataset(path)
    assert [r.line for r in data.records] == [2]
    assert [(p.line, p.kind) for p in data.problems] == [(3, "malformed_json")]
