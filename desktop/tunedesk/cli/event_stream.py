"""Run a child that speaks the protocol on stdout, with its stderr drained on a thread.

Why a thread: llama.cpp and the converter write a lot to stderr. A parent that only reads stdout lets the
stderr pipe fill (64 KB), the child blocks writing to it, and both wait forever.
"""

from __future__ import annotations

import collections
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

from tunedesk.core.launch import worker_env
from tunedesk.core.protocol import ProtocolError, decode


class EventStream:
    """`for event in EventStream(argv): ...`; then `.returncode` and `.stderr_tail()`."""

    def __init__(self, argv: list[str], *, stdin: bool = False, tail_lines: int = 40) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=worker_env(),
        )
        self._tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._tail.append(line)

    def lines(self) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """Each stdout line with its decoded event (None for a line that is not one)."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                yield line, decode(line)
            except ProtocolError:
                yield line, None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for _, event in self.lines():
            if event is not None:
                yield event

    def wait(self) -> int:
        rc = self.proc.wait()
        self._drain.join(timeout=5)
        return rc

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def stderr_tail(self) -> str:
        return "".join(self._tail)
