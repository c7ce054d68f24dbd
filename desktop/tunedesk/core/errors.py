"""Errors a person can act on: what went wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TuneDeskError(Exception):
    """An expected failure with a readable message.

    Args:
        message: what went wrong, in plain words.
        hint: what the user can do about it.
        kind: a stable machine-readable tag (``bad_data``, ``missing_model``, ``out_of_memory``...).
        where: the location, e.g. ``{"file": "notes.jsonl", "line": 12, "field": "messages"}``.
    """

    message: str
    hint: str = ""
    kind: str = "error"
    where: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        loc = ", ".join(f"{k} {v}" for k, v in self.where.items())
        text = f"{self.message}" + (f" ({loc})" if loc else "")
        return text + (f"\n  What to do: {self.hint}" if self.hint else "")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "hint": self.hint, "where": self.where}
