"""What a run's earlier export left: the Export page shows it when the run is chosen again (after a restart
too), so a finished GGUF is never hidden behind "Nothing exported yet"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunedesk.core.protocol import read_events
from tunedesk.core.runs import RunLayout


def earlier_export(run_dir: str | Path) -> list[dict[str, Any]]:
    """The events of the run's latest completed export whose GGUF file is still there, its `finished` event
    last; [] when there is none. (Each export appends its events to the same file.)"""
    events = read_events(RunLayout(Path(run_dir)).export / "events.jsonl")
    ends = [i for i, e in enumerate(events) if e.get("event") == "finished"]
    for n in range(len(ends) - 1, -1, -1):
        end = events[ends[n]]
        gguf = end.get("gguf_path")
        if end.get("status") == "completed" and gguf and Path(gguf).is_file():
            start = ends[n - 1] + 1 if n else 0
            return events[start : ends[n] + 1]
    return []
