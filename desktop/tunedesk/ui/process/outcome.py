"""How a worker ended, in one value: `ProcessOutcome` (after qutebrowser's), for pipes and attached runs alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tunedesk.core import status as run_status


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
        status = run_status.status_from_exit(self.exit_code) or "crashed"
        return "failed" if status == "completed" and self.error_events else status

    def was_successful(self) -> bool:
        return run_status.is_success(self.status)

    def error(self) -> dict[str, Any] | None:
        """The most recent error event, if any (message, hint, traceback)."""
        return self.error_events[-1] if self.error_events else None
