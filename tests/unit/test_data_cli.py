"""`tunedesk data inspect` as a user runs it: a real subprocess, JSON and text output, exit status 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tunedesk.core.paths import sample_dataset

SRC = Path(__file__).resolve().parents[2] / "desktop"


def tunedesk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "tunedesk", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_inspect_json_has_the_report_fields() -> None:
    proc = tunedesk("data", "inspect", str(sample_dataset()), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    for key in (
        "total_rows",
        "usable_rows",
        "file_format",
        "data_format",
        "problems",
        "duplicates",
        "tokens",
    ):
        assert key in report
    assert report["total_rows"] == report["usable_rows"] == 240
    assert (report["file_format"], report["data_format"]) == ("jsonl", "openai_chat")


def test_inspect_text_lists_problems_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "some-bad.jsonl"
    good = {"prompt": "Q", "completion": "A"}
    path.write_text(json.dumps(good) + '\n{"prompt": "Q2"}\nnot json\n', encoding="utf-8")
    proc = tunedesk("data", "inspect", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "Rows: 1 usable of 3" in proc.stdout
    assert "line 2, field completion: 'completion' is missing" in proc.stdout
    assert "line 3: not valid JSON" in proc.stdout


def test_bad_file_exits_2_with_a_readable_message(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_bytes(os.urandom(4096).replace(b"\n", b"") + b"\x00")
    proc = tunedesk("data", "inspect", str(path))
    assert proc.returncode == 2
    assert "binary" in proc.stderr and "What to do" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_deeply_nested_rows_are_named_problems_not_a_traceback(tmp_path: Path) -> None:
    """A row nested 5,000 levels deep once ended `data inspect` with a RecursionError traceback (exit 1)."""
    path = tmp_path / "deep.jsonl"
    good = json.dumps({"prompt": "Q", "completion": "A"})
    path.write_text(good + '\n{"messages": ' + "[" * 5000 + "]" * 5000 + "}\n", encoding="utf-8")
    proc = tunedesk("data", "inspect", str(path))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-2000:]
    assert "line 2: not valid JSON: nested too deeply (5,001 levels" in proc.stdout
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")  # nothing else: the file is refused
    proc = tunedesk("data", "inspect", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    assert "nested too deeply" in proc.stderr and "line 1" in proc.stderr and "What to do" in proc.stderr


def test_bad_file_with_json_gives_an_error_object(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    proc = tunedesk("data", "inspect", str(path), "--json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == "bad_data" and error["where"]["file"] == str(path) and error["hint"]


def test_inspect_with_a_model_cuts_where_training_would() -> None:
    """The Data page's histogram cut-off is the Train page's sequence length: both come from advise()."""
    from tunedesk.core.hardware.info import HardwareInfo
    from tunedesk.core.models.info import model_info
    from tunedesk.core.models.source import resolve_model
    from tunedesk.core.presets.advise import advise, measure_data

    proc = tunedesk("data", "inspect", str(sample_dataset()), "--model", "starter", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    source = resolve_model("starter")
    info = model_info(source)
    hw = HardwareInfo(cpu_physical_cores=2, cpu_fp32_gflops=160, ram_total_mb=16384, ram_available_mb=12000)
    train_page = advise(hw, info, measure_data(sample_dataset(), source, info)).preset
    assert report["seq_len"] == train_page.seq_len != 512
    assert report["format_name"] == "Chat conversations in a JSON Lines file"
