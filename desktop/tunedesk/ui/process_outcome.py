"""How a worker ended, in one value: `ProcessOutcome` (after qutebrowser's), for pipes and attached runs alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Exit statuses of the worker and CLI (docs/architecture.md); used to describe an attached worker's end.
EXIT_BY_STATUS = {"completed": 0, "early_stopped": 0, "failed": 1, "cancelled": 3}


@dataclass
class ProcessOutcome:
    """How a worker ended.

    `exit_code` is None for an attached worker (not our child, so its exit status is unknowable); its
    outcome then comes from its last `finished`/`error` event alone.
    """

    exit_code: int | None
    crashed: bool  # killed by a signal / died without saying how it ended
    last_event: dict[str, Any] | None = None  # the last `finished` or `error` event
    error_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """completed | early_stopped | cancelled | failed | crashed (one word for the UI)."""
        if self.last_event and self.last_event.get("event") == "finished":
            return str(self.last_event.get("status", "failed"))
        if self.crashed or self.exit_code is None:
            return "crashed"
        if self.exit_code == 3:
            return "cancelled"
        return "completed" if self.exit_code == 0 and not self.error_events else "failed"

    def was_successful(self) -> bool:
        return self.status in ("completed", "early_stopped")

    def error(self) -> dict[str, Any] | None:
        """The most recent error event, if any (message, hint, traceback)."""
        return self.error_events[-1] if self.error_events else None
