"""`data inspect` without --model still names the rows no sequence length can hold (issue 10: a
750,000-token row was once reported without a word about its length)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tunedesk.core.data import inspect_dataset
from tunedesk.core.data.row_length import CHARS_PER_TOKEN, LONGEST_SEQ_LEN

SRC = Path(__file__).resolve().parents[2] / "desktop"
HUGE = "word " * 600_000  # 3,000,000 characters: about 750,000 tokens


def chat(i: int, answer: str) -> str:
    row = {"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": answer}]}
    return json.dumps(row)


def write_rows(path: Path, *answers: str) -> Path:
    path.write_text("\n".join(chat(i, a) for i, a in enumerate(answers)) + "\n", encoding="utf-8")
    return path


def test_a_huge_row_is_flagged_at_its_line_without_a_tokenizer(tmp_path: Path) -> None:
    report = inspect_dataset(write_rows(tmp_path / "d.jsonl", "short", HUGE, "also short"))
    (flag,) = [p for p in report.problems if p.kind == "too_long"]
    assert (flag.line, flag.severity) == (2, "warning")
    assert "about 750,001 tokens" in flag.message and "one assistant message of 3,000,000" in flag.message
    assert "Split it into shorter rows or remove it" in flag.message
    assert report.usable_rows == 3  # kept: a warning, not a refusal
    assert any("far longer than any sequence length (lines 2)" in s for s in report.suggestions)


def test_the_threshold_is_the_longest_sequence_length(tmp_path: Path) -> None:
    fits = "x" * (LONGEST_SEQ_LEN * CHARS_PER_TOKEN - 10)  # with the question: just under the limit
    over = "x" * (LONGEST_SEQ_LEN * CHARS_PER_TOKEN + 10)
    report = inspect_dataset(write_rows(tmp_path / "d.jsonl", fits, over))
    assert [p.line for p in report.problems if p.kind == "too_long"] == [2]


def test_raw_text_is_cut_into_windows_so_not_flagged(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(HUGE, encoding="utf-8")
    assert not [p for p in inspect_dataset(path).problems if p.kind == "too_long"]


def test_cli_names_the_line_and_what_to_do(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "tickets.jsonl", "short", "fine", HUGE)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, "-m", "tunedesk", "data", "inspect", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "line 3: about 750,001 tokens" in proc.stdout and "[too_long, kept]" in proc.stdout
    assert "Split it into shorter rows or remove it" in proc.stdout


def test_other_scripts_count_more_tokens_per_character() -> None:
    """Chinese, Japanese and Korean take about two tokens a character in the starter's tokenizer, Russian
    about 0.8 a character: the estimate stays below those counts (it must never flag a row that fits) but far above a
    Latin-script guess, so a long CJK row is flagged without --model."""
    from tunedesk.core.data.records import Record
    from tunedesk.core.data.row_length import estimated_tokens, far_too_long

    zh = "我们的客户支持团队每天处理数百张工单。请总结以下工单并给出紧急程度和下一步行动。"  # 41 chars
    ko = "저희 고객 지원팀은 매일 수백 건의 티켓을 처리합니다."
    ru = "Наша служба поддержки ежедневно обрабатывает сотни заявок."
    assert estimated_tokens(zh) == len(zh)  # at least a token per character
    assert estimated_tokens(ko) >= 0.8 * len(ko)  # Hangul syllables count, the spaces are Latin
    assert 0.4 * len(ru) <= estimated_tokens(ru) <= len(ru)  # its spaces and full stop are Latin
    assert estimated_tokens("plain English words here") == 6
    rows = [Record(line=1, kind="chat", messages=[{"role": "user", "content": "总" * 9000}])]
    assert [p.line for p in far_too_long(rows)] == [1]  # 9,000 characters: over 8,192 tokens
