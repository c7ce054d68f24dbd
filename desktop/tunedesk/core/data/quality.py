"""The data quality report: what was read, what is wrong with which line, how long the rows are in tokens,
and plain-language advice. `to_dict()` feeds `--json` and the GUI; `to_text()` is for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunedesk.core.data.advice import draft_system_prompt, fine_tuning_advice
from tunedesk.core.data.encode import encode_records, percentile
from tunedesk.core.data.formats import format_display_name
from tunedesk.core.data.loader import load_dataset
from tunedesk.core.data.records import ERROR, LoadedData, Problem
from tunedesk.core.data.row_length import far_too_long

HIST_BINS = 20
MAX_PROBLEMS_SHOWN = 20


@dataclass
class TokenStats:
    min: int
    mean: float
    p50: int
    p95: int
    max: int
    bin_edges: list[int]
    counts: list[int]


@dataclass
class QualityReport:
    path: Path
    file_format: str
    data_format: str
    total_rows: int
    usable_rows: int
    problems: list[Problem]
    duplicates: list[list[int]]
    seq_len: int | None = None
    tokens: TokenStats | None = None
    long_rows: int = 0  # rows (chat) longer than seq_len
    long_action: str = ""  # "truncated" | "dropped" | "chunked" (text)
    dropped_rows: int = 0
    total_tokens: int = 0  # tokens the training will see (after cuts)
    supervised_tokens: int = 0  # tokens with a label (the answers for chat; all for text)
    suggestions: list[str] = field(default_factory=list)
    try_prompt: str = (
        ""  # a system prompt to try on the base model first, when advice.py says training may not pay
    )

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == ERROR)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "file_format": self.file_format,
            "data_format": self.data_format,
            "format_name": format_display_name(self.data_format, self.file_format),
            "total_rows": self.total_rows,
            "usable_rows": self.usable_rows,
            "skipped_rows": self.total_rows - self.usable_rows,
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": [p.to_dict() for p in self.problems],
            "duplicates": self.duplicates,
            "seq_len": self.seq_len,
            "tokens": None if self.tokens is None else vars(self.tokens),
            "long_rows": self.long_rows,
            "long_action": self.long_action,
            "dropped_rows": self.dropped_rows,
            "total_tokens": self.total_tokens,
            "supervised_tokens": self.supervised_tokens,
            "suggestions": self.suggestions,
            "try_prompt": self.try_prompt,
        }

    def to_text(self) -> str:
        lines = [
            f"Dataset: {self.path}",
            f"Format: {format_display_name(self.data_format, self.file_format)} ({self.data_format})",
            f"Rows: {self.usable_rows} usable of {self.total_rows} "
            f"({self.errors} skipped with errors, {self.warnings} warnings)",
        ]
        if self.tokens is not None:
            t = self.tokens
            unit = "document" if self.data_format == "text" else "row"
            lines.append(
                f"Tokens per {unit}: min {t.min}, mean {t.mean:.0f}, median {t.p50}, p95 {t.p95}, max {t.max}"
            )
            lines.append(_sparkline(t))
            if self.seq_len:
                if self.long_rows:
                    lines.append(
                        f"Longer than seq_len {self.seq_len}: {self.long_rows} rows ({self.long_action})"
                    )
                else:
                    lines.append(f"All rows fit in seq_len {self.seq_len}.")
            tokens = f"Training tokens per epoch: {self.total_tokens}"
            if self.data_format != "text":
                tokens += f" ({self.supervised_tokens} in answers, which the model learns from)"
            lines.append(tokens)
        if self.duplicates:
            shown = "; ".join(", ".join(map(str, g)) for g in self.duplicates[:5])
            lines.append(f"Exact duplicates (lines): {shown}" + (" ..." if len(self.duplicates) > 5 else ""))
        if self.problems:
            lines.append(f"Problems ({len(self.problems)}):")
            lines.extend(f"  {p.to_text()}" for p in self.problems[:MAX_PROBLEMS_SHOWN])
            if len(self.problems) > MAX_PROBLEMS_SHOWN:
                lines.append(f"  ... and {len(self.problems) - MAX_PROBLEMS_SHOWN} more (use --json for all)")
        if self.suggestions:
            lines.append("Suggestions:")
            lines.extend(f"  - {s}" for s in self.suggestions)
        return "\n".join(lines)


def _sparkline(t: TokenStats) -> str:
    bars = " ▁▂▃▄▅▆▇█"
    top = max(t.counts, default=0) or 1
    spark = "".join(bars[round(c / top * 8)] if c else " " for c in t.counts)
    return f"Histogram {t.bin_edges[0]}..{t.bin_edges[-1]} tokens: |{spark}|"


def token_stats(lengths: list[int], bins: int = HIST_BINS) -> TokenStats:
    lo, hi = min(lengths), max(lengths)
    width = max(1, -(-(hi - lo + 1) // bins))  # integer bins that cover [lo, hi]
    n_bins = -(-(hi - lo + 1) // width)
    edges = [lo + i * width for i in range(n_bins + 1)]
    counts = [0] * n_bins
    for n in lengths:
        counts[min((n - lo) // width, n_bins - 1)] += 1
    return TokenStats(
        min=lo,
        mean=round(sum(lengths) / len(lengths), 1),
        p50=percentile(lengths, 50),
        p95=percentile(lengths, 95),
        max=hi,
        bin_edges=edges,
        counts=counts,
    )


def inspect_dataset(
    path: str | Path, tokenizer: Any = None, seq_len: int | None = None, drop_long: bool = False
) -> QualityReport:
    """Load `path` and report on it. With a tokenizer, also token lengths and training tokens."""
    data = load_dataset(path)
    report = QualityReport(
        path=data.path,
        file_format=data.file_format,
        data_format=data.data_format,
        total_rows=data.total_rows,
        usable_rows=len(data.records),
        problems=data.problems,
        duplicates=data.duplicates,
        seq_len=seq_len,
    )
    if tokenizer is None:  # no token counts: still say which rows no sequence length can hold
        report.problems = _by_line([*data.problems, *far_too_long(data.records)])
    else:
        encoded = encode_records(data.records, tokenizer, seq_len or 10**9, drop_long=drop_long)
        report.problems = _by_line([*data.problems, *encoded.problems])
        report.usable_rows -= len(encoded.problems)
        if not encoded.token_lengths:
            return report  # nothing the model can read; the problems say why
        report.tokens = token_stats(encoded.token_lengths)
        report.total_tokens = sum(len(e) for e in encoded.examples)
        report.supervised_tokens = encoded.supervised_tokens
        report.dropped_rows = encoded.dropped
        cut_away = encoded.dropped - len(encoded.problems)  # long rows left out (not template refusals)
        if seq_len:
            report.long_rows = sum(1 for n in encoded.token_lengths if n > seq_len)
            if data.data_format == "text":
                report.long_action = "cut into windows of seq_len; nothing is lost"
            else:
                report.long_action = (
                    "dropped" if drop_long else "truncated at seq_len; the end is not learned"
                )
                if cut_away and not drop_long:
                    report.long_action += f"; {cut_away} dropped, their answer was cut away entirely"
    report.suggestions = suggestions(data, report)
    if data.data_format != "text":
        report.try_prompt = draft_system_prompt(data.records, fine_tuning_advice(data.records))
    return report


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.source or "", p.line if p.line is not None else 0))


def suggestions(data: LoadedData, report: QualityReport) -> list[str]:
    out = []
    n = len(data.records)
    if data.data_format != "text":
        rows = "1 row" if n == 1 else f"{n} rows"
        if n < 100:
            out.append(f"Only {rows}: expect little change; 100+ recommended, 500+ for a new skill.")
        if n < 10:
            out.append("Fewer than 10 rows: no validation set is kept, so overfitting will go unnoticed.")
    if report.errors:
        out.append(f"{report.errors} rows were skipped: fix the lines listed above to train on them too.")
    if data.duplicates:
        out.append(
            "Exact duplicates were removed: repeated rows would be memorised and leak into validation."
        )
    if report.long_rows and data.data_format != "text" and report.tokens:
        t = report.tokens
        fit = f"{t.max}" if t.p95 == t.max else f"{t.max} (all fit) or {t.p95} (95% fit)"
        if report.supervised_tokens == 0:
            out.insert(
                0,
                f"Nothing to learn at seq_len {report.seq_len}: every answer is cut away. Raise it to {fit}.",
            )
        else:
            out.append(
                f"{report.long_rows} rows are longer than seq_len {report.seq_len}: raise seq_len to {fit}, "
                "or shorten those rows."
            )
    far = [p.line for p in report.problems if p.kind == "too_long"]
    if far:
        lines = ", ".join(map(str, far[:5])) + (" ..." if len(far) > 5 else "")
        out.append(
            f"{len(far)} rows are far longer than any sequence length (lines {lines}): split them into shorter "
            "rows or remove them, or training cuts them and never learns their ends."
        )
    if data.data_format == "text" and report.total_tokens and report.total_tokens < 50_000:
        out.append(
            f"Raw text of {report.total_tokens} tokens is small for domain adaptation: expect the model to pick "
            "up words and style, not facts."
        )
    if data.data_format != "text":
        answers = [r.reference() for r in data.records]
        if len(answers) >= 10 and len(set(answers)) < max(2, len(answers) // 10):
            out.append("Most answers are identical: the model will learn to give that answer to everything.")
    if data.data_format != "text":
        # When fine-tuning is not the right tool at all (core/data/advice.py): say what to try instead.
        out.extend(f"{a.message} {a.action}" for a in fine_tuning_advice(data.records))
    if any(p.kind == "encoding" for p in data.problems):
        out.append("Some lines were not UTF-8: re-save the file as UTF-8 so no characters are lost.")
    return out
