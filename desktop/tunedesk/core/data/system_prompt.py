"""The system prompt a run trains with: the most common one in its training rows, or none.

A model tuned on rows that all begin with "You triage support tickets..." answers best when it is asked
with that prompt again; Chat and the Ollama Modelfile default to it. Rows without a system message count as
"none": when most rows have none, the run's prompt is None, which means "whatever the chat template adds by
itself", since that is what those rows were rendered with during training.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.data.records import Record
from tunedesk.core.data.split import load_records
from tunedesk.core.errors import TuneDeskError


def record_system_prompt(record: Record) -> str | None:
    """The row's leading system message, or None (text rows and chats without one)."""
    messages = record.messages or []
    if messages and messages[0]["role"] == "system" and messages[0]["content"].strip():
        return messages[0]["content"]
    return None


def training_system_prompt(records: Iterable[Record]) -> str | None:
    """The most common system prompt of these rows (None counts as a choice too); ties go to the first seen."""
    counts = Counter(record_system_prompt(r) for r in records)
    if not counts:
        return None
    # Counter.most_common keeps insertion order among equal counts: the first seen wins a tie.
    return counts.most_common(1)[0][0]


# Kept with the run's stored split (RUN_DIR/data/), since it is a fact about those rows.
FILE_NAME = "system_prompt.json"


def save_system_prompt(data_dir: Path, records: list[Record]) -> str | None:
    """Choose the training system prompt of these rows and store it in data_dir/system_prompt.json."""
    prompt = training_system_prompt(records)
    rows_with_it = sum(1 for r in records if record_system_prompt(r) == prompt)
    write_json_atomic(
        Path(data_dir) / FILE_NAME,
        {"system_prompt": prompt, "rows_with_it": rows_with_it, "rows": len(records)},
    )
    return prompt


def stored_system_prompt(data_dir: Path) -> str | None:
    """The run's training system prompt: from system_prompt.json, else (a run older than that file) chosen
    again from its stored train.jsonl; None when the rows had none or the run has no stored data."""
    path = Path(data_dir) / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        prompt = data.get("system_prompt") if isinstance(data, dict) else None
        return prompt if isinstance(prompt, str) and prompt else None
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        return None  # unreadable: fall back to the template's default rather than fail a chat or export
    train = Path(data_dir) / "train.jsonl"
    if not train.is_file():
        return None
    try:
        return training_system_prompt(load_records(train))
    except TuneDeskError:
        return None
