"""JSON Lines and JSON documents, read row by row with each row's line number.

A JSON document is read element by element (not with one json.loads) so that every row keeps its line and
one malformed object does not lose the rest of the file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tunedesk.core import json_text
from tunedesk.core.data.raw import RawData, RawRow, bad_file, decode_lines
from tunedesk.core.data.records import WARNING, Problem

# Keys under which a JSON object commonly holds its list of rows.
LIST_KEYS = ("data", "rows", "examples", "items", "records", "train", "samples")


def sniff(data: bytes) -> str:
    first = data.lstrip()[:1]
    if first == b"[":
        return "json"
    if first == b"{":
        # One object per line is JSONL; an object spread over lines is a JSON document.
        first_line = data.lstrip().split(b"\n", 1)[0].strip()
        try:
            json.loads(first_line)
            return "jsonl"
        except RecursionError:  # one complete line, only nested too deep: read_jsonl names its line
            return "jsonl"
        except ValueError:
            return "json"
    return "txt"


def read_jsonl(data: bytes) -> RawData:
    out = RawData("jsonl")
    lines = list(decode_lines(data, out.problems))
    last_content = max((n for n, t in lines if t.strip()), default=0)
    for number, text in lines:
        if not text.strip():
            continue  # blank lines separate nothing in JSONL; skipping them is harmless
        try:
            value = json_text.loads(text)
        except json.JSONDecodeError as exc:
            stripped = text.rstrip()
            if stripped.endswith(",") and _parses(stripped[:-1]):
                # A JSON array pasted as lines: the row is fine, the trailing comma is not JSONL.
                out.problems.append(
                    Problem(number, None, "trailing_comma", "a comma after the object", WARNING)
                )
                out.rows.append(RawRow(number, json_text.loads(stripped[:-1])))
                continue
            cut = number == last_content and not data.endswith(b"\n")
            why = " The file may have been cut off while writing." if cut else ""
            if "double quotes" in exc.msg and "'" in text:
                why = " JSON needs double quotes; this looks like a Python dict."
            out.problems.append(
                Problem(
                    number, None, "malformed_json", f"not valid JSON: {exc.msg} (column {exc.colno}).{why}"
                )
            )
            continue
        out.rows.append(RawRow(number, value))
    return out


def _parses(text: str) -> bool:
    try:
        json_text.loads(text)
    except ValueError:
        return False
    return True


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


_WS = re.compile(r"\s*")


def _scan_array(text: str, pos: int, out: RawData) -> None:
    """Read the JSON array starting at text[pos] == '[' element by element, keeping each element's line.

    A malformed element is reported and skipped: reading resumes at the next line whose '{' sits at the
    column where elements started (how pretty-printed and one-per-line arrays are laid out).
    """
    decoder = json.JSONDecoder()
    pos += 1
    column: int | None = None
    while True:
        pos = _WS.match(text, pos).end()
        if pos >= len(text):
            line = _line_of(text, len(text.rstrip()))
            out.problems.append(
                Problem(
                    line,
                    None,
                    "malformed_json",
                    "the list of rows is not closed with ']': the file may be cut off",
                )
            )
            return
        if text[pos] == "]":
            return
        if column is None:
            column = pos - (text.rfind("\n", 0, pos) + 1)
        try:
            value, end = json_text.raw_decode(decoder, text, pos)
        except json.JSONDecodeError as exc:
            line = _line_of(text, exc.pos)
            out.problems.append(
                Problem(line, None, "malformed_json", f"not valid JSON: {exc.msg} (column {exc.colno}).")
            )
            again = re.compile(r"\n" + " " * column + r"\{").search(text, exc.pos)
            if not again:
                return
            pos = again.start() + 1 + column
            continue
        out.rows.append(RawRow(_line_of(text, pos), value))
        pos = _WS.match(text, end).end()
        if pos < len(text) and text[pos] == ",":
            pos += 1


def read_json(path: Path, data: bytes) -> RawData:
    problems: list[Problem] = []
    text = "\n".join(t for _, t in decode_lines(data, problems))
    out = RawData("json", problems=problems)
    start = _WS.match(text).end()
    if text[start : start + 1] == "[":
        _scan_array(text, start, out)
        return out
    try:
        doc = json_text.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and sniff(data) == "jsonl":  # JSON Lines saved as .json
            return read_jsonl(data)
        rows_at = re.compile(r'"(?:' + "|".join(LIST_KEYS) + r')"\s*:\s*\[').search(text)
        if rows_at:  # {"data": [... one bad object ...]}: keep the good rows
            _scan_array(text, rows_at.end() - 1, out)
            if out.rows:
                return out
        raise bad_file(
            path,
            f"{path.name} is not valid JSON: {exc.msg}.",
            "Fix the JSON at that place, or save one JSON object per line as a .jsonl file.",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    if not isinstance(doc, dict):
        raise bad_file(path, f"{path.name} holds a single {type(doc).__name__}, not rows.", _JSON_HINT)
    key = _list_key(doc)
    if key is None:
        # A lone object is one row (a single conversation, say).
        out.rows.append(RawRow(_line_of(text, start), doc))
        return out
    match = re.compile(r'"' + re.escape(key) + r'"\s*:\s*\[').search(text)
    if match is None:  # escaped key spelling: line numbers unknown, content still fine
        out.rows.extend(RawRow(1, v) for v in doc[key])
    else:
        _scan_array(text, match.end() - 1, out)
    return out


_JSON_HINT = 'Use a list of objects, or an object with the list under "data" or "rows".'
_ROW_KEYS = {"messages", "conversations", "instruction", "prompt", "text"}


def _list_key(doc: dict[str, Any]) -> str | None:
    for key in _ROW_KEYS & doc.keys():
        value = doc[key]
        # {"conversations": [{"messages": ...}, ...]} is a list of rows, not one ShareGPT row.
        if not (
            isinstance(value, list) and value and isinstance(value[0], dict) and _ROW_KEYS & value[0].keys()
        ):
            return None
    lists = [k for k, v in doc.items() if isinstance(v, list)]
    for key in (*LIST_KEYS, *sorted(_ROW_KEYS)):
        if key in lists:
            return key
    return lists[0] if len(lists) == 1 else None
