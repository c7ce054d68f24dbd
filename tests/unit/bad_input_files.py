"""Hypothesis strategies for malformed (and odd-but-valid) dataset files, shared by the bad-input suites.

A generated file is a `DataFile(suffix, content)`: the bytes a user's editor, exporter or accident might have
written, in every format the data pipeline reads (JSONL, JSON, CSV, TXT, Parquet).
"""

from __future__ import annotations

import codecs
import io
import json
from typing import Any

from hypothesis import strategies as st

# Field names of every known format, so generated rows often look almost right (the hard cases).
KNOWN_FIELDS = (
    "messages",
    "conversations",
    "role",
    "content",
    "from",
    "value",
    "instruction",
    "input",
    "output",
    "prompt",
    "completion",
    "text",
    "chosen",
    "rejected",
    "system",
)
ROLES = ("user", "assistant", "system", "human", "gpt", "bot", "tool", "", "USER")

# Text with what editors and exports leave in: controls, NUL, separators that str.splitlines() breaks on,
# quotes and commas for CSV, right-to-left marks, surrogate-free astral characters.
ODD_CHARS = "\x00\x01\x07\x0b\x0c\x1b\x1c\x1d\x1e\x7f\x85\u2028\u2029\ufeff\u200f\"',;\t\r\n\\{}[]é漢😀"
odd_text = st.text(alphabet=st.sampled_from(ODD_CHARS) | st.characters(codec="utf-8"), max_size=40)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_FIELDS) | odd_text, children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def turns(draw: st.DrawFn, role_key: str = "role", content_key: str = "content") -> list[Any]:
    """A list of turns where each turn may lose a key, get a bad role, or a non-text content."""
    out = []
    for _ in range(draw(st.integers(0, 4))):
        turn: dict[str, Any] = {}
        if draw(st.booleans()) or True:
            turn[role_key] = draw(st.sampled_from(ROLES) | json_values)
        if draw(st.integers(0, 5)):
            turn[content_key] = draw(odd_text | json_values)
        out.append(turn if draw(st.integers(0, 8)) else draw(json_values))
    return out


@st.composite
def almost_rows(draw: st.DrawFn) -> Any:
    """A row shaped like one of the formats, with wrong types, missing or extra fields."""
    kind = draw(st.sampled_from(["chat", "sharegpt", "alpaca", "pc", "text", "pair", "any"]))
    if kind == "chat":
        row: Any = {"messages": draw(turns())}
    elif kind == "sharegpt":
        row = {"conversations": draw(turns("from", "value"))}
    elif kind == "alpaca":
        row = {
            k: draw(odd_text | json_values) for k in ("instruction", "input", "output") if draw(st.booleans())
        }
    elif kind == "pc":
        row = {k: draw(odd_text | json_values) for k in ("prompt", "completion") if draw(st.booleans())}
    elif kind == "text":
        row = {"text": draw(odd_text | json_values)}
    elif kind == "pair":
        row = {k: draw(odd_text | turns()) for k in ("prompt", "chosen", "rejected") if draw(st.booleans())}
    else:
        return draw(json_values)
    if draw(st.booleans()):
        row[draw(st.sampled_from(KNOWN_FIELDS) | odd_text)] = draw(json_values)  # an extra field
    return row


def good_row(i: int, fmt: str) -> dict[str, Any]:
    """A valid row of format `fmt`, unique by `i`."""
    q, a = f"Question {i}?", f"Answer {i}."
    return {
        "openai_chat": {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]},
        "sharegpt": {"conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}]},
        "alpaca": {"instruction": q, "input": "", "output": a},
        "prompt_completion": {"prompt": q, "completion": a},
    }[fmt]


GOOD_FORMATS = ("openai_chat", "sharegpt", "alpaca", "prompt_completion")


class DataFile:
    """A file's name ending and bytes (a plain class: hypothesis prints dataclasses in full, 300 kB rows)."""

    def __init__(self, suffix: str, content: bytes) -> None:
        self.suffix, self.content = suffix, content

    def __repr__(self) -> str:  # hypothesis prints this for a failing example: keep it short
        return f"DataFile({self.suffix!r}, {self.content[:300]!r}{'...' if len(self.content) > 300 else ''})"


def _jsonl(rows: list[Any], draw: st.DrawFn) -> bytes:
    lines = []
    for row in rows:
        line = json.dumps(row, ensure_ascii=draw(st.booleans()))
        if draw(st.integers(0, 6)) == 0:  # broken JSON: cut, Python-dict quotes, trailing comma
            line = draw(st.sampled_from([line[: len(line) // 2], line.replace('"', "'"), line + ","]))
        lines.append(line)
    return "\n".join(lines).encode("utf-8")


def _csv(rows: list[Any], draw: st.DrawFn) -> bytes:
    import csv

    header = draw(st.lists(st.sampled_from(KNOWN_FIELDS) | odd_text, min_size=1, max_size=4))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=draw(st.sampled_from([",", ";", "\t"])))
    writer.writerow(header)
    for row in rows:
        cells = [
            json.dumps(v) if not isinstance(v, str) else v
            for v in (row.values() if isinstance(row, dict) else [row])
        ]
        writer.writerow(cells[: draw(st.integers(0, len(header) + 1))])
    text = buf.getvalue()
    if draw(st.booleans()):  # an unbalanced quote, as a hand edit leaves it
        text = text.replace(",", ',"', 1)
    return text.encode("utf-8")


def _parquet(rows: list[Any]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    dict_rows = [r for r in rows if isinstance(r, dict)] or [{"x": 1}]
    buf = io.BytesIO()
    try:
        pq.write_table(pa.Table.from_pylist(dict_rows), buf)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        # Columns Arrow cannot type or store: every value as its JSON text, as an export would write it.
        buf = io.BytesIO()
        pq.write_table(
            pa.Table.from_pylist([{str(k): json.dumps(v) for k, v in r.items()} for r in dict_rows]), buf
        )
    return buf.getvalue()


def deeply_nested(bracket: str, levels: int = 5000) -> bytes:
    """A chat row whose messages nest `levels` deep: lists of lists, or objects in objects."""
    if bracket == "[":
        inner = "[" * levels + "]" * levels
    else:
        inner = '{"a": ' * levels + "1" + "}" * levels
    return ('{"messages": ' + inner + "}").encode()


def _damage(data: bytes, draw: st.DrawFn) -> bytes:
    """What editors and accidents do to a file's bytes."""
    for _ in range(draw(st.integers(0, 2))):
        what = draw(
            st.sampled_from(
                ["bom", "crlf", "nul", "latin1", "bad_utf8", "huge", "truncate", "binary", "deep"]
            )
        )
        if what == "bom":
            data = codecs.BOM_UTF8 + data
        elif what == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif what == "nul":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b"\x00" + data[at:]
        elif what == "latin1":
            data = data + "\ncaf\xe9 na\xefve".encode("latin-1")
        elif what == "bad_utf8":
            at = draw(st.integers(0, len(data)))
            data = (
                data[:at]
                + draw(st.sampled_from([b"\xff\xfe\xfd", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90"]))
                + data[at:]
            )
        elif what == "huge":  # one row of ~300,000 characters
            data = data + b'\n{"prompt": "' + b"word " * 60_000 + b'", "completion": "ok"}'
        elif what == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif what == "deep":  # nested past what json's recursive parser follows (once a RecursionError)
            data = data + b"\n" + deeply_nested(draw(st.sampled_from(["[", "{"])))
        else:
            data = data + draw(st.binary(min_size=1, max_size=64))
    return data


@st.composite
def malformed_files(draw: st.DrawFn) -> DataFile:
    """A dataset file in any supported format, rows mostly malformed, bytes possibly damaged."""
    fmt = draw(st.sampled_from(["jsonl", "json", "csv", "txt", "parquet", "mixed", "empty"]))
    rows = draw(st.lists(almost_rows(), max_size=6))
    if draw(st.booleans()):  # a few good rows among the bad ones
        rows += [good_row(i, draw(st.sampled_from(GOOD_FORMATS))) for i in range(draw(st.integers(1, 3)))]
    if fmt == "empty":
        return DataFile(
            draw(st.sampled_from([".jsonl", ".json", ".csv", ".txt"])),
            draw(st.sampled_from([b"", b"\n\n", b"  \r\n", codecs.BOM_UTF8])),
        )
    if fmt == "parquet":
        data = _parquet(rows)
        return DataFile(
            ".parquet", data if draw(st.integers(0, 3)) else data[: draw(st.integers(0, len(data)))]
        )
    if fmt == "jsonl":
        data = _jsonl(rows, draw)
    elif fmt == "json":
        doc = rows if draw(st.booleans()) else {draw(st.sampled_from(["data", "rows", "items", "x"])): rows}
        data = json.dumps(doc, indent=draw(st.sampled_from([None, 2]))).encode()
        if draw(st.integers(0, 3)) == 0:
            data = data[: draw(st.integers(0, len(data)))]
    elif fmt == "csv":
        data = _csv(rows, draw)
    elif fmt == "txt":
        data = draw(odd_text).encode("utf-8", "surrogatepass")
    else:  # mixed formats in one file: JSONL lines, a CSV header, a JSON array, prose
        parts = [
            _jsonl(rows[:2], draw),
            b"prompt,completion\nq,a",
            json.dumps(rows[2:]).encode(),
            b"Some notes.",
        ]
        data = b"\n".join(draw(st.permutations(parts)))
    suffix = {"mixed": draw(st.sampled_from([".jsonl", ".json", ".csv", ".txt", ".data"]))}.get(
        fmt, f".{fmt}"
    )
    return DataFile(suffix, _damage(data, draw))


@st.composite
def valid_files(draw: st.DrawFn) -> tuple[DataFile, str, int]:
    """(file, format, rows): good rows only, saved the ways editors save text (BOM, CRLF, UTF-16)."""
    fmt = draw(st.sampled_from(GOOD_FORMATS))
    n = draw(st.integers(1, 12))
    text = "\n".join(json.dumps(good_row(i, fmt), ensure_ascii=False) for i in range(n)) + "\n"
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = text.replace("\n", newline)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))  # "utf-16" writes a BOM
    return DataFile(draw(st.sampled_from([".jsonl", ".json", ""])), text.encode(encoding)), fmt, n
