"""Seeded train/validation(/test) split, and the normalised JSONL a run folder keeps (RUN_DIR/data/*.jsonl)
so that a resumed run trains and validates on exactly the same rows."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from tunedesk.core.atomic import write_text_atomic
from tunedesk.core.data.own_jsonl import read_own_jsonl
from tunedesk.core.data.records import ROLES, Record

MIN_ROWS_FOR_VAL = 10


@dataclass
class Split:
    train: list[Record]
    val: list[Record]
    test: list[Record]

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def split_sizes(
    n: int, val_fraction: float = 0.1, val_max: int = 200, test_fraction: float = 0.0
) -> tuple[int, int]:
    """(n_val, n_test) for n rows. Below MIN_ROWS_FOR_VAL rows everything trains: a one-row validation set
    would say nothing and cost a tenth of the data."""
    if n < MIN_ROWS_FOR_VAL:
        return 0, 0
    n_val = min(val_max, max(1, round(n * val_fraction))) if val_fraction > 0 else 0
    n_test = max(1, round(n * test_fraction)) if test_fraction > 0 else 0
    if n - n_val - n_test < 1:
        raise ValueError(
            f"val_fraction {val_fraction} and test_fraction {test_fraction} leave no training rows"
        )
    return n_val, n_test


def split_records(
    records: list[Record],
    val_fraction: float = 0.1,
    val_max: int = 200,
    seed: int = 42,
    test_fraction: float = 0.0,
) -> Split:
    """Shuffle with `seed`, take validation then test rows; each part keeps the file's order."""
    n_val, n_test = split_sizes(len(records), val_fraction, val_max, test_fraction)
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    val_idx = sorted(order[:n_val])
    test_idx = sorted(order[n_val : n_val + n_test])
    train_idx = sorted(order[n_val + n_test :])
    return Split(
        train=[records[i] for i in train_idx],
        val=[records[i] for i in val_idx],
        test=[records[i] for i in test_idx],
    )


def save_records(records: list[Record], path: str | Path) -> Path:
    """Write records as normalised JSONL (one {"line", "kind", "messages"|"text"} per line), atomically."""
    text = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)
    return write_text_atomic(path, text)


def load_records(path: str | Path) -> list[Record]:
    """Read what save_records wrote. Any damage is an error: these files are TuneDesk's own."""
    hint = "Start a new run: this run's data folder was edited, cut off or is missing."
    return read_own_jsonl(
        Path(path), lambda row, _line: _record_from_dict(row), what="the prepared data", hint=hint
    )


def _record_from_dict(d: dict) -> Record:
    kind = d["kind"]
    if kind == "text":
        if not isinstance(d["text"], str):
            raise TypeError("'text' is not a string")
        return Record(int(d["line"]), "text", text=d["text"])
    if kind not in ("chat", "pair"):
        raise ValueError(f"unknown kind {kind!r}")
    rejected = _messages(d["rejected"]) if kind == "pair" else None
    return Record(int(d["line"]), kind, messages=_messages(d["messages"]), rejected=rejected)


def _messages(messages: list[dict]) -> list[dict[str, str]]:
    for m in messages:
        if m["role"] not in ROLES or not isinstance(m["content"], str):
            raise ValueError(f"bad message {m!r}")
    return [{"role": m["role"], "content": m["content"]} for m in messages]
