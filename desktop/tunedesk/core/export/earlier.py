"""What a run's earlier export left: the Export page shows it when the run is chosen again (after a restart
too), so a finished GGUF is never hidden behind "Nothing exported yet"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunedesk.core.protocol import read_events
from tunedesk.core.runs import RunLayout


def earlier_export(run_dir: str | Path) -> dict[str, Any] | None:
    """The `finished` event of the run's latest completed export whose GGUF file is still there, or None."""
    events = read_events(RunLayout(Path(run_dir)).export / "events.jsonl")
    for event in reversed(events):
        if event.get("event") != "finished" or event.get("status") != "completed":
            continue
        gguf = event.get("gguf_path")
        if gguf and Path(gguf).is_file():
            return event
    return None
