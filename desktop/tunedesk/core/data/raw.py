"""What readers produce: raw rows with their source line numbers, and the problems met while reading."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunedesk.core.data.records import WARNING, Problem
from tunedesk.core.errors import TuneDeskError


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


def bad_file(path: Path, message: str, hint: str, **where: Any) -> TuneDeskError:
    return TuneDeskError(message, hint=hint, kind="bad_data", where={"file": str(path), **where})


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
        if "\x00" in text:
            # NUL bytes are damage (a crash while saving, a binary paste): never text to train on.
            problems.append(
                Problem(
                    number,
                    None,
                    "nul_bytes",
                    f"NUL bytes (\\x00) at column {text.index(chr(0)) + 1}, removed: the file may be damaged "
                    "there; check that line",
                    WARNING,
                )
            )
            text = text.replace("\x00", "")
        yield number, text
