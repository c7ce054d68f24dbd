"""Property-based bad input (hypothesis): malformed files of every format through detect, validate, inspect
and split. Whatever the bytes, the pipeline either reports (a QualityReport whose problems name their line
and field) or refuses with a TuneDeskError naming the file; never another exception, never a changed input
file, and odd-but-valid files (BOM, CRLF, UTF-16) load every row.

Run with `--hypothesis-show-statistics` to see how many examples each property ran (bench/RESULTS.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.unit.bad_input_files import (
    GOOD_FORMATS,
    DataFile,
    deeply_nested,
    good_row,
    malformed_files,
    odd_text,
    valid_files,
)

from tunedesk.core.data import inspect_dataset, load_dataset, load_records, save_records, split_records
from tunedesk.core.data.records import Record
from tunedesk.core.errors import TuneDeskError

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
# Kinds of row problem that are about one field: the field must be named.
FIELD_KINDS = {"missing_field", "unknown_role", "empty"}


def _write(folder: Path, file: DataFile) -> Path:
    path = folder / f"data{file.suffix}"
    path.write_bytes(file.content)
    return path


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def _line_count(content: bytes) -> int:
    return content.count(b"\n") + 1


@SETTINGS
@given(malformed_files())
@example(DataFile(".csv", b'prompt,completion\n"' + b"word " * 30_000 + b'",ok\n'))  # a cell over csv's limit
@example(DataFile(".jsonl", deeply_nested("[")))  # once a RecursionError traceback
@example(DataFile(".json", b"[" + deeply_nested("{") + b"]"))
@example(DataFile(".json", deeply_nested("[")))
@example(DataFile(".csv", b"messages\n" + b"[" * 5000 + b"]" * 5000 + b"\n"))
def test_malformed_files_are_reported_or_refused_never_crash(file: DataFile) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), file)
        before = _fingerprint(path)
        try:
            report = inspect_dataset(path)
        except TuneDeskError as err:
            assert err.where.get("file") == str(path), err
            assert err.message and err.hint, err
            assert "Traceback" not in str(err)
        else:
            assert report.usable_rows >= 1
            limit = _line_count(file.content) if file.suffix != ".parquet" else None
            for p in report.problems:
                assert p.message and p.line is not None, p
                if limit is not None:
                    assert 1 <= p.line <= limit, (p, limit)
                if p.kind in FIELD_KINDS:
                    assert p.field, p
            text, as_json = report.to_text(), json.dumps(report.to_dict(), ensure_ascii=False)
            assert text and as_json
            data = load_dataset(path)
            split = split_records(data.records, seed=3)
            assert sorted(r.line for part in (split.train, split.val, split.test) for r in part) == sorted(
                r.line for r in data.records
            )
        assert _fingerprint(path) == before, "the input file was changed"
        assert sorted(p.name for p in Path(tmp).iterdir()) == [path.name], "a file was left beside the input"


@SETTINGS
@given(valid_files())
def test_odd_but_valid_files_load_every_row(case: tuple[DataFile, str, int]) -> None:
    file, fmt, n = case
    with tempfile.TemporaryDirectory() as tmp:
        data = load_dataset(_write(Path(tmp), file))
    assert (data.data_format, len(data.records)) == (fmt, n)
    assert not data.errors, data.errors
    assert [r.reference() for r in data.records] == [f"Answer {i}." for i in range(n)]


@st.composite
def good_and_bad_lines(draw: st.DrawFn) -> tuple[list[str], set[int]]:
    """JSONL lines of one format with bad lines at random places; returns (lines, 1-based bad line numbers)."""
    fmt = draw(st.sampled_from(GOOD_FORMATS))
    lines, bad = [], set()
    for i in range(draw(st.integers(3, 15))):
        if draw(st.integers(0, 3)) == 0:
            broken = dict(good_row(i, fmt))
            key = draw(st.sampled_from(sorted(broken)))
            broken[key] = draw(st.sampled_from([None, 42, [], {"x": 1}, True]))
            if broken[key] is None:
                del broken[key]
            line = draw(st.sampled_from([json.dumps(broken), json.dumps(good_row(i, fmt))[:-3], "\x00\x01"]))
            if key == "input" and fmt == "alpaca" and line == json.dumps(broken):
                continue  # alpaca's input is optional: not a bad line
            bad.add(len(lines) + 1)
            lines.append(line)
        else:
            lines.append(json.dumps(good_row(i, fmt)))
    if len(bad) == len(lines):
        lines.append(json.dumps(good_row(99, fmt)))
    return lines, bad


@SETTINGS
@given(good_and_bad_lines())
@example(([json.dumps(good_row(1, "alpaca")), "\x00\x01", json.dumps(good_row(2, "alpaca"))], {2}))  # a NUL
def test_bad_lines_never_cost_a_good_one_and_are_each_named(case: tuple[list[str], set[int]]) -> None:
    """No silent wrong result: every good line is kept and every bad line is reported at its own line."""
    lines, bad = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mixed.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        data = load_dataset(path)
    assert {r.line for r in data.records} == set(range(1, len(lines) + 1)) - bad
    assert {p.line for p in data.errors} == bad


@SETTINGS
@given(st.lists(st.tuples(odd_text, odd_text), min_size=1, max_size=8), st.integers(0, 2**32 - 1))
@example([("", "\x85")], 0)  # U+0085 once split a prepared row in two (str.splitlines)
def test_prepared_data_round_trips_any_text(pairs: list[tuple[str, str]], seed: int) -> None:
    """What a run folder keeps (save_records/load_records) holds any text a user's row can hold."""
    records = [
        Record(i + 1, "chat", messages=[{"role": "user", "content": q}, {"role": "assistant", "content": a}])
        for i, (q, a) in enumerate(pairs)
    ]
    records.append(Record(len(records) + 1, "text", text="".join(q for q, _ in pairs)))
    split = split_records(records, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_records(split.train, Path(tmp) / "train.jsonl")
        assert load_records(path) == split.train


CLI_SRC = Path(__file__).resolve().parents[2] / "desktop"


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(malformed_files(), st.booleans())
@example(DataFile(".jsonl", deeply_nested("{")), False)  # once exit 1 with a RecursionError traceback
def test_cli_data_inspect_never_shows_a_traceback(file: DataFile, as_json: bool) -> None:
    """`tunedesk data inspect` as a user runs it (a subprocess: slow, so a few examples only)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), file)
        before = _fingerprint(path)
        env = {**os.environ, "PYTHONPATH": str(CLI_SRC)}
        args = [
            sys.executable,
            "-m",
            "tunedesk",
            "data",
            "inspect",
            str(path),
            *(["--json"] if as_json else []),
        ]
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        assert _fingerprint(path) == before
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode in (0, 2), proc.stderr
    if proc.returncode == 2 and as_json:
        error = json.loads(proc.stdout)["error"]
        assert error["where"]["file"] == str(path) and error["message"] and error["hint"]
    elif proc.returncode == 2:
        assert proc.stderr.startswith("Error: ") and str(path) in proc.stderr and "What to do:" in proc.stderr
    elif as_json:
        assert json.loads(proc.stdout)["usable_rows"] >= 1
    else:
        assert "Rows: " in proc.stdout
