"""The sample dataset shipped with TuneDesk (resources/sample_data, see its README.md) and the regex that
checks an answer is in its one-line triage format. Tests and the export verification reuse the regex."""

from __future__ import annotations

import re
from pathlib import Path

from tunedesk.core.paths import resources_dir, sample_dataset

SAMPLE_CATEGORIES = ("BILLING", "ACCESS", "BUG", "SHIPPING", "FEATURE", "HOWTO")
# e.g. "[BILLING] Charged twice for the March invoice | urgency: high | next: refund the duplicate charge"
SAMPLE_FORMAT_RE = re.compile(
    r"^\[(?P<category>" + "|".join(SAMPLE_CATEGORIES) + r")\] (?P<summary>[^|\n]{3,120}) "
    r"\| urgency: (?P<urgency>low|medium|high) \| next: (?P<next>[^|\n]{3,120})$"
)


def is_sample_format(answer: str) -> bool:
    """True when `answer` (surrounding whitespace ignored) is one triage line."""
    return SAMPLE_FORMAT_RE.match(answer.strip()) is not None


def sample_notes_dir() -> Path:
    """A tiny folder of raw-text notes, for trying domain adaptation."""
    return resources_dir() / "sample_data" / "notes"


__all__ = ["SAMPLE_CATEGORIES", "SAMPLE_FORMAT_RE", "is_sample_format", "sample_dataset", "sample_notes_dir"]
