"""JSON Lines files that TuneDesk writes or ships itself (a run's prepared data, the general prompts): read
whole, and any damage is an error naming the file and the line, with what to do. (A user's own data is read
forgivingly instead, problem by problem: json_files.py.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tunedesk.core.errors import TuneDeskError

T = TypeVar("T")


def read_own_jsonl(path: Path, parse: Callable[[Any, int], T], *, what: str, hint: str) -> list[T]:
    """`parse(row, line)` for each row of `path`; `what` names the file in messages ("the prepared data")."""
    try:
        # "\n" only: str.splitlines() also breaks at U+0085, U+2028... which JSON keeps raw inside strings.
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise TuneDeskError(
            f"Cannot read {what} {path} ({exc}).", hint=hint, kind="bad_data", where={"file": str(path)}
        ) from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(parse(json.loads(line), number))
        except (ValueError, KeyError, TypeError) as exc:
            message = f"{what[:1].upper()}{what[1:]} {path.name} is damaged at line {number} ({exc})."
            where = {"file": str(path), "line": number}
            raise TuneDeskError(message, hint=hint, kind="bad_data", where=where) from None
    return rows
