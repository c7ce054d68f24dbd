"""Read a dataset file (or a folder of notes) into raw rows with their source line numbers.

Readers never judge content (formats.py does); they only report what stops a row from being read at all:
malformed JSON, non-UTF-8 bytes, a CSV row with the wrong number of fields. A problem with one row never
stops the others from loading; only a file that cannot be read at all raises TuneDeskError.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tunedesk.core import json_text
from tunedesk.core.data.json_files import read_json, read_jsonl, sniff
from tunedesk.core.data.raw import RawData, RawRow, bad_file, decode_lines
from tunedesk.core.data.records import WARNING, Problem
from tunedesk.core.errors import TuneDeskError

__all__ = ["SUPPORTED", "RawData", "RawRow", "read_raw"]

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
SUPPORTED = "JSONL, JSON, CSV, Parquet, .txt/.md, or a folder of .txt/.md notes"


def read_raw(path: Path) -> RawData:
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        raise bad_file(path, f"{path} does not exist.", "Check the path, or pick the file again.")
    if path.suffix.lower() in UNSUPPORTED:
        raise bad_file(path, f"{path.name} is a {path.suffix} file.", UNSUPPORTED[path.suffix.lower()])
    fmt = FILE_FORMATS.get(path.suffix.lower())
    if fmt == "parquet":
        return _read_parquet(path)
    data = path.read_bytes()
    if not data.strip():
        raise bad_file(path, f"{path.name} is empty.", "Add some rows (one JSON object per line for JSONL).")
    text_bytes = _to_utf8_bytes(path, data)
    if fmt is None:
        fmt = sniff(text_bytes)
    if fmt == "jsonl":
        return read_jsonl(text_bytes)
    if fmt == "json":
        return read_json(path, text_bytes)
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
    # A stray NUL in UTF-8 text is one damaged line (decode_lines reports it); NULs among bytes that are not
    # UTF-8 (or many control bytes) are a binary file, or UTF-16 saved without its BOM.
    not_utf8 = head.decode("utf-8", errors="replace").count("\ufffd") > len(head) // 100
    if (b"\x00" in head and not_utf8) or controls > len(head) * 0.1:
        raise bad_file(
            path,
            f"{path.name} looks like a binary file, not text.",
            f"TuneDesk reads {SUPPORTED}. Export your data to one of these.",
        )
    return data


def _read_csv(data: bytes) -> RawData:
    out = RawData("csv")
    lines = [t + "\n" for _, t in decode_lines(data, out.problems)]
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=_delimiter(lines[0]))
    header: list[str] | None = None
    last = 0  # file line where the previous record ended
    for cells in _csv_records(reader, out.problems):
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


def _csv_records(reader: Any, problems: list[Problem]) -> Iterator[list[str]]:
    """The reader's records; one it cannot parse is reported at its line and reading goes on."""
    limit = csv.field_size_limit(2**31 - 1)  # a huge cell is a long row (reported later), not unreadable
    try:
        while True:
            try:
                yield next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                problems.append(
                    Problem(reader.line_num, None, "malformed_csv", f"not a readable CSV row: {exc}")
                )
    finally:
        csv.field_size_limit(limit)


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
            return json_text.loads(stripped)
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
        raise bad_file(
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
        raise bad_file(
            path, f"{path.name} is not a readable Parquet file ({exc}).", "Re-export it, or save it as JSONL."
        ) from None
    return RawData("parquet", [RawRow(i, row) for i, row in enumerate(rows, start=1)])
