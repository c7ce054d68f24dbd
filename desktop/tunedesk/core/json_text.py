"""JSON text from a user's files, parsed without the one failure json's parser does not report as bad JSON.

Python's json parser recurses once per level of nesting, so a row like ``[[[[...]]]]`` a few thousand levels
deep ends in a RecursionError (not a ValueError) and reached users as a traceback. Here it becomes a
``json.JSONDecodeError`` (a ValueError) that says how deep the text is nested and where, so every caller's
existing handling of bad JSON (file, line, what to do) covers it too.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A string literal (skipped whole: brackets inside quotes do not nest) or a bracket.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
DEEP = 100  # reported as the place where the nesting got out of hand; no real row nests this deep


def _too_deep(text: str, start: int = 0) -> json.JSONDecodeError:
    """The error for text nested beyond what the parser can follow: the deepest level, at the place it
    passed DEEP levels."""
    depth = deepest = 0
    at = start
    for match in _TOKENS.finditer(text, start):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                at = match.start() if depth == DEEP else at
        elif char in "]}":
            depth -= 1
            if depth <= 0:  # the value that was too deep has ended
                break
    return json.JSONDecodeError(
        f"nested too deeply ({deepest:,} levels of brackets inside brackets; no data or settings file nests "
        "this deep)",
        text,
        at,
    )


def loads(text: str) -> Any:
    """`json.loads`, with nesting too deep to parse raised as a json.JSONDecodeError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise _too_deep(text) from None


def raw_decode(decoder: json.JSONDecoder, text: str, pos: int) -> tuple[Any, int]:
    """`decoder.raw_decode(text, pos)`, with nesting too deep to parse raised as a json.JSONDecodeError."""
    try:
        return decoder.raw_decode(text, pos)
    except RecursionError:
        raise _too_deep(text, pos) from None
