"""A detached worker seen through its run folder: the new lines of its files, whether it lives, and control.

A training run must be able to outlive the window, and a child on a pipe cannot: it would die with its reader.
So `WorkerProcess` follows such a worker through its run folder instead, with one of these: its events come
from `events.jsonl` (the worker appends every event there), its stderr from `stderr.log`, and commands go to
`RUN_DIR/control`, which the worker polls each step. No Qt here: the caller polls on its own timer.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import write_text_atomic
from tunedesk.core.runs import RunLayout, pid_alive

STDERR_FILE = (
    "stderr.log"  # a detached worker's stderr, in its run folder: a hard crash's traceback lands here
)


def spawn_detached(command: list[str], layout: RunLayout, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `command` in `layout`'s folder so that it outlives this app; its stderr goes to stderr.log.

    subprocess, not QProcess: PySide6's instance startDetached() does not return the pid, and the static one
    cannot redirect output. A new session keeps the worker alive when the app (or its terminal) ends; stdout
    goes nowhere because events.jsonl carries the same events. Raises OSError when it cannot start.
    """
    detach: dict[str, Any] = (
        {"creationflags": subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP}
        if sys.platform == "win32"
        else {"start_new_session": True}
    )
    with open(layout.root / STDERR_FILE, "ab") as err:
        return subprocess.Popen(
            command,
            cwd=layout.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            **detach,
        )


class RunFolderFollower:
    """Reads a run folder's events and stderr as they grow, and speaks to the worker running it.

    Args:
        layout: the run folder.
        pid: the worker's process id.
        from_start: read the files from their beginning (replay) rather than from their current end.
        child: the worker's Popen when this app started it (its exit code is then known).
    """

    def __init__(
        self,
        layout: RunLayout,
        pid: int,
        *,
        from_start: bool = True,
        child: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.layout = layout
        self.pid = pid
        self.child = child
        self._offsets: dict[str, int] = {}
        self._partial: dict[str, bytes] = {}
        for path in (layout.events, self.stderr_path):
            self._offsets[str(path)] = 0 if from_start or not path.exists() else path.stat().st_size

    @property
    def stderr_path(self) -> Path:
        return self.layout.root / STDERR_FILE

    def new_event_lines(self) -> list[bytes]:
        """Complete lines appended to events.jsonl since the last call."""
        return self._read_new_lines(self.layout.events)

    def new_stderr_lines(self) -> list[bytes]:
        """Complete lines appended to stderr.log since the last call."""
        return self._read_new_lines(self.stderr_path)

    def _read_new_lines(self, path: Path) -> list[bytes]:
        key = str(path)
        try:
            with open(path, "rb") as fh:
                fh.seek(self._offsets.get(key, 0))
                chunk = fh.read()
                self._offsets[key] = fh.tell()
        except FileNotFoundError:
            return []
        data = self._partial.pop(key, b"") + chunk
        lines = data.split(b"\n")
        if lines[-1]:
            self._partial[key] = lines[-1]  # a line still being written: finish it next time
        return lines[:-1]

    def exit_code(self) -> int | None:
        """The worker's exit code when this app started it and it has ended; None otherwise."""
        return self.child.poll() if self.child is not None else None

    def alive(self) -> bool:
        if self.child is not None:
            return self.child.poll() is None
        return pid_alive(self.pid)

    def send(self, cmd: str) -> None:
        """pause | resume | cancel, written to RUN_DIR/control (the worker polls it each step)."""
        write_text_atomic(self.layout.control, cmd)

    def signal(self, *, kill: bool) -> None:
        """SIGKILL with `kill`, else SIGTERM (the worker treats it as cancel)."""
        import psutil

        try:
            proc = psutil.Process(self.pid or -1)
            proc.kill() if kill else proc.terminate()
        except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
            pass  # already gone (the next poll reports it), or not ours to signal
