"""The words a run ends with, which of them count as success, and the exit codes: defined once.

The worker, the CLI and the GUI all read these; docs/architecture.md lists the exit codes for scripts.
"""

from __future__ import annotations

# A `finished` event carries one of these.
FINISHED = ("completed", "early_stopped", "cancelled", "failed")
# A run folder can also be new, still training, paused, or left by a worker that died without a word.
ACTIVE = ("running", "paused")
ALL = ("new", *ACTIVE, *FINISHED, "crashed")
SUCCESS = frozenset({"completed", "early_stopped"})

EXIT_OK = 0
EXIT_FAILED = 1  # an `error` event was emitted
EXIT_BAD_INPUT = 2  # a TuneDeskError before any work started (bad data, bad model, bad flag)
EXIT_CANCELLED = 3
EXIT_INTERRUPTED = 130  # a second Ctrl+C: out at once
EXIT_CODES = {
    "completed": EXIT_OK,
    "early_stopped": EXIT_OK,
    "failed": EXIT_FAILED,
    "cancelled": EXIT_CANCELLED,
}

# Short labels for a table cell, and one plain sentence for a status line.
LABELS = {
    "new": "Not started",
    "running": "Training",
    "paused": "Paused",
    "completed": "Completed",
    "early_stopped": "Stopped early (done)",
    "cancelled": "Cancelled",
    "failed": "Failed",
    "crashed": "Stopped unexpectedly",
}
SENTENCES = {
    "new": "Not started yet",
    "running": "Training",
    "paused": "Paused",
    "completed": "Training finished",
    "early_stopped": "Finished early: validation loss stopped improving",
    "cancelled": "Stopped (a checkpoint was saved; you can continue it later)",
    "failed": "Training failed",
    "crashed": "Stopped unexpectedly",
}


def is_success(status: str | None) -> bool:
    return status in SUCCESS


def is_active(status: str | None) -> bool:
    return status in ACTIVE


def exit_code(status: str | None) -> int:
    """The process exit code for a run that ended with `status` (unknown words count as failure)."""
    return EXIT_CODES.get(status or "", EXIT_FAILED)


def status_from_exit(code: int | None) -> str | None:
    """The status an exit code stands for, or None where the code alone cannot tell (None, a signal)."""
    if code is None or code < 0:
        return None
    return {EXIT_OK: "completed", EXIT_CANCELLED: "cancelled"}.get(code, "failed")


def label(status: str | None) -> str:
    return LABELS.get(status or "", status or "?")


def sentence(status: str | None) -> str:
    return SENTENCES.get(status or "", f"Stopped: {status}")
