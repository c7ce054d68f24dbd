"""Read a dataset file (or a folder of notes) into raw rows with their source line numbers.

Readers never judge content (formats.py does); they only report what stops a row from being read at all:
malformed JSON, non-UTF-8 bytes, a CSV row with the wrong number of fields. A problem with one row never
stops the others from loading; only a file that cannot be read at all raises TuneDeskError.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunedesk.core.data.records import WARNING, Problem
from tunedesk.core.errors import TuneDeskError

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
FILE_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "csv"}
FILE_FORMATS[".parquet"] = "parquet"
# Formats people try that are not read, with what to do instead.
UNSUPPORTED = {
    ".xlsx": "Excel workbooks are not read: save the sheet as CSV (File > Save As > CSV UTF-8).",
    ".xls": "Excel workbooks are not read: save the sheet as CSV (File > Save As > CSV UTF-8).",
    ".ods": "Spreadsheets are not read: save the sheet as CSV.",
    ".docx": "Word documents are not read: save them as .txt or .md notes in a folder.",
    ".pdf": "PDF files are not read: copy their text into .txt or .md notes in a folder.",
}
FILE_FORMATS.update({s: "txt" for s in TEXT_SUFFIXES})
# Keys under which a JSON object commonly holds its list of rows.
LIST_KEYS = ("data", "rows", "examples", "items", "records", "train", "samples")
SUPPORTED = "JSONL, JSON, CSV, Parquet, .txt/.md, or a folder of .txt/.md notes"


@dataclass
class RawRow:
    line: int
    value: Any  # a dict for structured rows, a str for raw text
    source: str | None = None


@dataclass
class RawData:
    file_format: str
    rows: list[RawRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _bad_file(path: Path, message: str, hint: str, **where: Any) -> TuneDeskError:
    return TuneDeskError(message, hint=hint, kind="bad_data", where={"file": str(path), **where})


def read_raw(path: Path) -> RawData:
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        raise _bad_file(path, f"{path} does not exist.", "Check the path, or pick the file again.")
    if path.suffix.lower() in UNSUPPORTED:
        raise _bad_file(path, f"{path.name} is a {path.suffix} file.", UNSUPPORTED[path.suffix.lower()])
    fmt = FILE_FORMATS.get(path.suffix.lower())
    if fmt == "parquet":
        return _read_parquet(path)
    data = path.read_bytes()
    if not data.strip():
        raise _bad_file(path, f"{path.name} is empty.", "Add some rows (one JSON object per line for JSONL).")
    text_bytes = _to_utf8_bytes(path, data)
    if fmt is None:
        fmt = _sniff(text_bytes)
    if fmt == "jsonl":
        return _read_jsonl(text_bytes)
    if fmt == "json":
        return _read_json(path, text_bytes)
    if fmt == "csv":
        return _read_csv(text_bytes)
    return _read_txt(text_bytes)


def _to_utf8_bytes(path: Path, data: bytes) -> bytes:
    """Strip a UTF-8 BOM, convert UTF-16 (Windows "Unicode" text) and refuse binary files."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace").encode("utf-8")
    head = data[:8192]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in head or controls > len(head) * 0.1:
        raise _bad_file(
            path,
            f"{path.name} looks like a binary file, not text.",
            f"TuneDesk reads {SUPPORTED}. Export your data to one of these.",
        )
    return data


def _sniff(data: bytes) -> str:
    first = data.lstrip()[:1]
    if first == b"[":
        return "json"
    if first == b"{":
        # One object per line is JSONL; an object spread over lines is a JSON document.
        first_line = data.lstrip().split(b"\n", 1)[0].strip()
        try:
            json.loads(first_line)
            return "jsonl"
        except ValueError:
            return "json"
    return "txt"


def decode_lines(data: bytes, problems: list[Problem]) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, text) with CRLF handled; bad UTF-8 is replaced and reported per line."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.removesuffix(b"\r")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="replace")
            problems.append(
                Problem(
                    number,
                    None,
                    "encoding",
                    f"bytes that are not UTF-8 at column {exc.start + 1} (e.g. Latin-1 or Windows-1252 text); "
                    "they were replaced with '\ufffd'. Re-save the file as UTF-8 to keep those characters",
                    WARNING,
                )
            )
        yield number, text


def _read_jsonl(data: bytes) -> RawData:
    out = RawData("jsonl")
    lines = list(decode_lines(data, out.problems))
    last_content = max((n for n, t in lines if t.strip()), default=0)
    for number, text in lines:
        if not text.strip():
            continue  # blank lines separate nothing in JSONL; skipping them is harmless
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            stripped = text.rstrip()
            if stripped.endswith(",") and _parses(stripped[:-1]):
                # A JSON array pasted as lines: the row is fine, the trailing comma is not JSONL.
                out.problems.append(
                    Problem(number, None, "trailing_comma", "a comma after the object", WARNING)
                )
                out.rows.append(RawRow(number, json.loads(stripped[:-1])))
                continue
            cut = number == last_content and not data.endswith(b"\n")
            why = " The file may have been cut off while writing." if cut else ""
            if "double quotes" in exc.msg and "'" in text:
                why = " JSON needs double quotes; this looks like a Python dict."
            out.problems.append(
                Problem(
                    number, None, "malformed_json", f"not valid JSON ({exc.msg} at column {exc.colno}).{why}"
                )
            )
            continue
        out.rows.append(RawRow(number, value))
    return out


def _parses(text: str) -> bool:
    try:
        json.loads(text)
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
        if pos >= len(text) or text[pos] == "]":
            return
        if column is None:
            column = pos - (text.rfind("\n", 0, pos) + 1)
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            line = _line_of(text, exc.pos)
            out.problems.append(
                Problem(line, None, "malformed_json", f"not valid JSON ({exc.msg} at column {exc.colno}).")
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


def _read_json(path: Path, data: bytes) -> RawData:
    problems: list[Problem] = []
    text = "\n".join(t for _, t in decode_lines(data, problems))
    out = RawData("json", problems=problems)
    start = _WS.match(text).end()
    if text[start : start + 1] == "[":
        _scan_array(text, start, out)
        return out
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _sniff(data) == "jsonl":  # JSON Lines saved as .json
            return _read_jsonl(data)
        raise _bad_file(
            path,
            f"{path.name} is not valid JSON: {exc.msg}.",
            "Fix the JSON at that place, or save one JSON object per line as a .jsonl file.",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    if not isinstance(doc, dict):
        raise _bad_file(path, f"{path.name} holds a single {type(doc).__name__}, not rows.", _JSON_HINT)
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


def _read_csv(data: bytes) -> RawData:
    out = RawData("csv")
    lines = [t + "\n" for _, t in decode_lines(data, out.problems)]
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=_delimiter(lines[0]))
    header: list[str] | None = None
    last = 0  # file line where the previous record ended
    for cells in reader:
        start, last = last + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if len(cells) != len(header):
            severity = "error" if len(cells) < len(header) else WARNING
            what = "missing" if len(cells) < len(header) else "extra"
            out.problems.append(
                Problem(
                    start,
                    None,
                    "wrong_columns",
                    f"{len(cells)} fields but the header has {len(header)} ({what} fields; "
                    "a comma inside a value needs quotes)",
                    severity,
                )
            )
            if severity == "error":
                continue
        row = {h: _csv_cell(c) for h, c in zip(header, cells, strict=False) if h}
        out.rows.append(RawRow(start, row))
    return out


def _delimiter(header: str) -> str:
    """Comma unless the header line says otherwise (Excel writes ';' in many locales, and TSV uses tabs)."""
    counts = {d: header.count(d) for d in ",;\t|"}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _csv_cell(cell: str) -> Any:
    # A conversation stored in one CSV cell is JSON; anything else stays text.
    stripped = cell.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return cell


def _read_txt(data: bytes, source: str | None = None, number: int = 1) -> RawData:
    out = RawData("txt")
    text = "\n".join(t for _, t in decode_lines(data, out.problems))
    for p in out.problems:
        p.source = source
    if text.strip():
        out.rows.append(RawRow(number, text.strip("\n"), source))
    return out


def _read_folder(path: Path) -> RawData:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
    if not files:
        raise _bad_file(
            path,
            f"The folder {path} holds no .txt or .md files.",
            "Put your notes in .txt or .md files in that folder, or pick a dataset file instead.",
        )
    out = RawData("folder")
    for index, file in enumerate(files, start=1):
        name = str(file.relative_to(path))
        data = file.read_bytes()
        try:
            data = _to_utf8_bytes(file, data)
        except TuneDeskError as err:
            out.problems.append(Problem(index, None, "binary", err.message, source=name))
            continue
        part = _read_txt(data, name, index)
        out.problems.extend(part.problems)
        if not part.rows:
            out.problems.append(Problem(index, "text", "empty", f"{name} is empty", source=name))
        out.rows.extend(part.rows)
    return out


def _read_parquet(path: Path) -> RawData:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise _bad_file(
            path, f"{path.name} is not a readable Parquet file ({exc}).", "Re-export it, or save it as JSONL."
        ) from None
    return RawData("parquet", [RawRow(i, row) for i, row in enumerate(rows, start=1)])
