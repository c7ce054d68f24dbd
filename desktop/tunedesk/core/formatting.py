"""Durations and sizes in the words a person reads: one formatter each, for the CLI and the GUI."""

from __future__ import annotations

from typing import Any


def duration(seconds: float | None, *, unknown: str = "?") -> str:
    """'42 s', '3 min 05 s', '1 h 04 min': whole seconds, the two largest units."""
    if seconds is None or seconds < 0:
        return unknown
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min {s:02d} s" if m else f"{s} s"


def gb(mb: float | None, *, unknown: str = "?") -> str:
    """A size given in MB (2**20 bytes) as GB: one decimal below 100 GB, whole numbers above."""
    if mb is None:
        return unknown
    value = mb / 1024
    return f"{value:.1f} GB" if value < 100 else f"{value:.0f} GB"


def mb(megabytes: float | None, *, unknown: str = "?") -> str:
    return unknown if megabytes is None else f"{megabytes:.0f} MB"


def number(value: Any, fmt: str = ".4f", *, unknown: str = "-") -> str:
    return unknown if value is None else format(value, fmt)
