"""Durations, sizes, shares and numbers in the words a person reads: one formatter each, for the CLI and GUI."""

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


def about_duration(seconds: float | None, *, unknown: str = "?") -> str:
    """An estimate, rounded as people say it: 'about 1 min', 'about 18 min', 'about 2 h 10 min'."""
    if seconds is None or seconds < 0:
        return unknown
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"about {minutes} min"
    h, m = divmod(int(round(minutes / 10) * 10), 60)
    return f"about {h} h {m:02d} min" if m else f"about {h} h"


def percent(fraction: float | None, *, unknown: str = "-") -> str:
    """A share given as 0..1, in whole percent ('10 %'), with one decimal below 1 % ('0.5 %')."""
    if fraction is None:
        return unknown
    value = fraction * 100
    return f"{value:.1f} %" if 0 < abs(value) < 1 else f"{value:.0f} %"


def plain_number(value: float | None, *, decimals: int = 3, unknown: str = "-") -> str:
    """A count or setting without trailing zeros: 4.0 -> '4', 2.5 -> '2.5', 0.0003 -> '0.0003'."""
    if value is None:
        return unknown
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "0", "-0") else f"{value:.1g}"
