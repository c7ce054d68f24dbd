"""Pause, resume and cancel for a live training worker.

Three ways in, one state:
- JSON lines on stdin, ``{"cmd": "pause"|"resume"|"cancel"}``, read on a daemon thread. EOF on stdin is not a
  cancel: a GUI that closes (or a CLI started with stdin from /dev/null) must not stop a run.
- The word (or the same JSON) in RUN_DIR/control, polled once per step and deleted once read: how a GUI that
  re-attaches to a run it did not start talks to it.
- SIGINT/SIGTERM request a cancel. After the first SIGINT the default handler is restored, so a second
  Ctrl-C ends the process at once, even in the middle of a long torch call.

The trainer acts on the state only between steps: a step is never torn in half. Before the first step, the
long start (the base model answering general prompts, rehearsal.py) checks for a cancel between batches and
raises `RunCancelled`: the worker ends the run as cancelled, with nothing to checkpoint yet.
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import threading
import time
from pathlib import Path
from typing import IO

log = logging.getLogger("tunedesk.training")

COMMANDS = ("pause", "resume", "cancel")


def parse_command(text: str) -> str | None:
    """`'pause'`, `'{"cmd": "pause"}'` -> "pause"; anything else -> None."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            return None
        text = str(obj.get("cmd", "")) if isinstance(obj, dict) else ""
    word = text.strip().lower()
    return word if word in COMMANDS else None


class RunCancelled(Exception):
    """A cancel honoured before training began (no step taken, so no checkpoint to save)."""


class Control:
    """The control state of one worker. Call `start()` once, `poll()` between steps."""

    def __init__(self, control_file: Path | None = None, stdin: IO[str] | None = None) -> None:
        self.control_file = control_file
        self.stdin = stdin
        self.paused = False
        self.cancelled = False
        self.cancel_reason = ""
        self._queue: queue.Queue[str] = queue.Queue()

    # ---- wiring -----------------------------------------------------------------------------------
    def start(self, *, signals: bool = True) -> None:
        if self.stdin is not None:
            threading.Thread(target=self._read_stdin, name="tunedesk-stdin", daemon=True).start()
        if signals and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGTERM, self._on_signal)

    def _read_stdin(self) -> None:
        assert self.stdin is not None
        try:
            for line in self.stdin:
                cmd = parse_command(line)
                if cmd:
                    self._queue.put(cmd)
                elif line.strip():
                    log.warning("ignored control line on stdin: %r", line.strip()[:200])
        except (OSError, ValueError):
            pass  # stdin closed under us: same as EOF, which is not a cancel
        log.debug("stdin closed; control continues through %s and signals", self.control_file)

    def _on_signal(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if signum == signal.SIGINT:
            # The next Ctrl-C kills at once (exit by signal: the shell reports 130).
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        self.request("cancel", reason=name)

    # ---- state ------------------------------------------------------------------------------------
    def request(self, cmd: str, reason: str = "") -> None:
        """Queue a command (thread- and signal-safe)."""
        if cmd == "cancel" and reason:
            self.cancel_reason = reason
        self._queue.put(cmd)

    def poll(self) -> None:
        """Apply every command that arrived since the last poll (stdin, control file, signals)."""
        self._read_control_file()
        while True:
            try:
                cmd = self._queue.get_nowait()
            except queue.Empty:
                break
            self._apply(cmd)

    def _read_control_file(self) -> None:
        if self.control_file is None:
            return
        try:
            text = self.control_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        self.control_file.unlink(missing_ok=True)
        cmd = parse_command(text)
        if cmd:
            self._queue.put(cmd)
        else:
            log.warning("ignored control file content %r", text.strip()[:200])

    def _apply(self, cmd: str) -> None:
        if cmd == "cancel":
            self.cancelled = True
            self.paused = False
            self.cancel_reason = self.cancel_reason or "cancel"
        elif cmd == "pause":
            self.paused = True
        elif cmd == "resume":
            self.paused = False

    def cancel_requested(self) -> bool:
        """Poll, then whether a cancel has arrived: for long work outside the step loop."""
        self.poll()
        return self.cancelled

    def wait_while_paused(self, interval: float = 0.2) -> None:
        """Block between steps while paused; returns on resume or cancel."""
        while self.paused and not self.cancelled:
            time.sleep(interval)
            self.poll()
