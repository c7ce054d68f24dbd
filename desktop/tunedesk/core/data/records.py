"""The normalised shapes every reader produces: a usable row (`Record`), a problem with a row (`Problem`),
and what a load returns (`LoadedData`). Plain dataclasses so the trainer, the CLI and the GUI share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROLES = ("system", "user", "assistant")
ERROR = "error"  # the row was skipped
WARNING = "warning"  # the row was kept


@dataclass
class Record:
    """One usable row, normalised.

    ``line`` is the 1-based source line (JSONL/TXT/JSON/CSV), the 1-based row index (Parquet), or the 1-based
    file index in a folder of notes. ``kind`` is ``"chat"`` (``messages`` set), ``"text"`` (``text`` set) or
    ``"pair"`` (a preference pair: ``messages`` is the prompt and the chosen answer, ``rejected`` the same
    prompt and the rejected answer; see pairs.py).
    """

    line: int
    kind: str
    messages: list[dict[str, str]] | None = None
    text: str | None = None
    rejected: list[dict[str, str]] | None = None

    def prompt_messages(self) -> list[dict[str, str]]:
        """The messages before the last assistant turn: what a model is asked at evaluation time."""
        if not self.messages:
            return []
        last = max(
            (i for i, m in enumerate(self.messages) if m["role"] == "assistant"), default=len(self.messages)
        )
        return [dict(m) for m in self.messages[:last]]

    def reference(self) -> str:
        """The last assistant turn's content (the expected answer); "" for text records."""
        for m in reversed(self.messages or []):
            if m["role"] == "assistant":
                return m["content"]
        return ""

    def content_key(self) -> tuple[Any, ...]:
        """What makes two rows exact duplicates: the same normalised content, wherever it came from."""
        if self.kind == "text":
            return ("text", self.text)
        key = ("chat", tuple((m["role"], m["content"]) for m in self.messages or []))
        if self.kind == "pair":
            key += tuple((m["role"], m["content"]) for m in self.rejected or [])
        return key

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"line": self.line, "kind": self.kind}
        if self.kind == "text":
            d["text"] = self.text
        else:
            d["messages"] = self.messages
        if self.kind == "pair":
            d["rejected"] = self.rejected
        return d


@dataclass
class Problem:
    """Something wrong with one row (or the file). ``severity`` is "error" (row skipped) or "warning" (kept).

    ``line`` is the 1-based file line (for CSV the line where the record starts), the row index for Parquet;
    for a folder of notes ``source`` names the file and ``line`` is the line inside it (or its index in the
    folder when the whole file is at fault). ``field`` is a path into the row, e.g. ``messages[2].role``.
    """

    line: int | None
    field: str | None
    kind: str
    message: str
    severity: str = ERROR
    source: str | None = None  # the file's name when a folder was read

    def to_dict(self) -> dict[str, Any]:
        d = {"line": self.line, "field": self.field, "kind": self.kind, "message": self.message}
        d["severity"] = self.severity
        if self.source:
            d["source"] = self.source
        return d

    def to_text(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field}")
        loc = ", ".join(where) or "file"
        action = "skipped" if self.severity == ERROR else "kept"
        return f"{loc}: {self.message} [{self.kind}, {action}]"


@dataclass
class LoadedData:
    path: Path
    file_format: str  # jsonl | json | csv | txt | parquet | folder
    data_format: str  # openai_chat | sharegpt | alpaca | prompt_completion | text
    records: list[Record]
    problems: list[Problem]
    total_rows: int
    duplicates: list[list[int]] = field(default_factory=list)  # groups of lines with identical content

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]
