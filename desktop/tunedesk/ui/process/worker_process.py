"""The one QObject that runs a worker: `python -m tunedesk.worker ...` (or `tunedesk ... --json`) as a child.

Modelled on qutebrowser's GUIProcess: a `QProcess(self)` whose output is read line by line, decoded as
protocol events, and re-emitted as typed signals; lines that are not events are kept aside, never a crash.
Nothing here waits on the process: the GUI thread never blocks.

A run must outlive the window ("keep training in the background"), which a child on a pipe cannot, so a worker
can also be *attached* (`start_detached`, or `attach` to one from an earlier session): followed through its run
folder (`RunFolderFollower`, polled here) with the same signals. How a worker ended is a `ProcessOutcome`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal, Slot

from tunedesk.core import status as run_status
from tunedesk.core.launch import cli_command, worker_command, worker_env
from tunedesk.core.protocol import ProtocolError, decode
from tunedesk.core.runs import RunLayout
from tunedesk.ui.process.outcome import ProcessOutcome
from tunedesk.ui.process.run_follower import RunFolderFollower, spawn_detached

POLL_MS = 250  # how often an attached worker's files are read: live enough, and a few small reads at most


def _qt_env(env: dict[str, str]) -> QProcessEnvironment:
    qenv = QProcessEnvironment()
    for key, value in env.items():
        qenv.insert(key, value)
    return qenv


class WorkerProcess(QObject):
    """A worker child process, or a detached worker followed through its run folder.

    Signals:
        started(): the process is running (attached: following began).
        event(dict): one protocol event (decoded by `tunedesk.core.protocol.decode`).
        invalid_line(str): a stdout line that is not a protocol event (a stray print, a torn line).
        stderr_line(str): one line of the worker's stderr (its log).
        finished(object): a `ProcessOutcome`, once, when the worker has ended.
        error_occurred(str): the worker could not be started or followed (message for the user).
    """

    started = Signal()
    event = Signal(dict)
    invalid_line = Signal(str)
    stderr_line = Signal(str)
    finished = Signal(object)
    error_occurred = Signal(str)

    def __init__(self, parent: QObject | None = None, *, kill_timeout_ms: int = 5000) -> None:
        super().__init__(parent)
        self.kill_timeout_ms = kill_timeout_ms
        self._proc = self._new_process()
        self._last_event: dict[str, Any] | None = None
        self._errors: list[dict[str, Any]] = []
        self._running = False
        self.command: list[str] = []
        self._run: RunFolderFollower | None = None  # attached mode: the worker followed through its folder
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)

    def _new_process(self) -> QProcess:
        proc = QProcess(self)
        proc.readyReadStandardOutput.connect(self._on_ready_read_stdout)
        proc.readyReadStandardError.connect(self._on_ready_read_stderr)
        proc.started.connect(self.started)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        return proc

    def _supersede(self) -> None:
        """Drop the running process for a new one: killed, and its remaining output and end are ignored.

        Lets a page restart work whose answer is stale (a new file chosen) without waiting for the old child.
        """
        if self._run is not None:
            self.detach()
            return
        old = self._proc
        for signal in (old.readyReadStandardOutput, old.readyReadStandardError, old.started, old.finished):
            signal.disconnect()
        old.errorOccurred.disconnect()
        old.finished.connect(old.deleteLater)
        old.kill()
        self._proc = self._new_process()
        self._running = False

    # ---- starting -----------------------------------------------------------------------------------------
    def start(self, args: list[str], *, env: dict[str, str] | None = None) -> None:
        """Start `python -m tunedesk.worker ARGS` on pipes."""
        self.start_command(worker_command(*args), env=env)

    def start_cli(self, args: list[str], *, env: dict[str, str] | None = None) -> None:
        """Start `tunedesk ARGS` (a `--json` form) on pipes, for work that needs torch."""
        self.start_command(cli_command(*args), env=env)

    def start_command(self, command: list[str], *, env: dict[str, str] | None = None) -> None:
        """Start any command line on pipes (tests: a fake worker); one still running is superseded."""
        if self.is_running():
            self._supersede()
        self._reset()
        self.command = list(command)
        self._proc.setProcessEnvironment(_qt_env(worker_env(env)))
        self._running = True
        self._proc.start(command[0], command[1:])

    def start_detached(
        self,
        args: list[str],
        run_dir: str | Path,
        *,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """Start `python -m tunedesk.worker ARGS` (or `command`, e.g. accelerate's launcher for several
        processes) so that it outlives this app, and follow it via `run_dir`."""
        if self.is_running():
            self._supersede()
        layout = RunLayout(Path(run_dir))
        command = command or worker_command(*args)
        try:
            child = spawn_detached(command, layout, worker_env(env))
        except OSError as exc:
            self.error_occurred.emit(f"Could not start the worker ({' '.join(command)}): {exc}")
            return
        self.command = command
        self.attach(layout.root, pid=child.pid, from_start=False, _child=child)

    def attach(
        self,
        run_dir: str | Path,
        *,
        pid: int | None = None,
        from_start: bool = True,
        _child: subprocess.Popen[bytes] | None = None,
    ) -> None:
        """Follow a worker already running `run_dir` (its pid from worker.pid unless given).

        With `from_start`, the events already in events.jsonl are replayed first, so curves are complete.
        """
        if self.is_running():
            self._supersede()
        self._reset()
        layout = RunLayout(Path(run_dir))
        if pid is None:
            try:
                pid = int(json.loads(layout.pid.read_text())["pid"])
            except (OSError, ValueError, KeyError, TypeError):
                self.error_occurred.emit(f"No worker is recorded as running {layout.root}.")
                return
        # _child, when we started it: its poll() reaps it and tells its exit code.
        self._run = RunFolderFollower(layout, pid, from_start=from_start, child=_child)
        self._running = True
        self.started.emit()
        self._on_poll()
        if self._running:
            self._poll.start()

    # ---- state and control --------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._running

    def is_attached(self) -> bool:
        return self._run is not None

    def pid(self) -> int | None:
        if self._run is not None:
            return self._run.pid
        pid = int(self._proc.processId())
        return pid or None

    def send(self, cmd: str) -> bool:
        """Send pause | resume | cancel: a JSON line on stdin, or the word in RUN_DIR/control when attached."""
        if not self._running:
            return False
        if self._run is not None:
            self._run.send(cmd)
            return True
        self._proc.write((json.dumps({"cmd": cmd}) + "\n").encode())
        return True

    def cancel(self) -> bool:
        """Ask the worker to stop cleanly (it saves a checkpoint and emits `finished` status cancelled)."""
        return self.send("cancel")

    def terminate(self) -> None:
        """SIGTERM (the worker treats it as cancel), then SIGKILL if it is still there after kill_timeout_ms."""
        if self._signal(kill=False):
            QTimer.singleShot(self.kill_timeout_ms, self.kill)

    def kill(self) -> None:
        self._signal(kill=True)

    def _signal(self, *, kill: bool) -> bool:
        """SIGKILL or SIGTERM to the worker, started here or followed through its folder; False if none runs."""
        if not self._running:
            return False
        if self._run is not None:
            self._run.signal(kill=kill)
        else:
            (self._proc.kill if kill else self._proc.terminate)()
        return True

    def detach(self) -> None:
        """Stop following an attached worker and leave it running (the window is closing)."""
        if self._run is not None:
            self._poll.stop()
            self._running = False
            self._run = None

    # ---- pipes --------------------------------------------------------------------------------------------
    def _reset(self) -> None:
        self._last_event, self._errors = None, []
        self._run = None

    def _handle_stdout_line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line.strip():
            return
        try:
            ev = decode(line)
        except ProtocolError:
            self.invalid_line.emit(line)
            return
        if ev["event"] == "finished":
            self._last_event = ev
        elif ev["event"] == "error":
            self._errors.append(ev)
            self._last_event = self._last_event or ev
        self.event.emit(ev)

    @Slot()
    def _on_ready_read_stdout(self) -> None:
        self._proc.setReadChannel(QProcess.ProcessChannel.StandardOutput)
        while self._proc.canReadLine():
            self._handle_stdout_line(bytes(self._proc.readLine().data()))

    @Slot()
    def _on_ready_read_stderr(self) -> None:
        self._proc.setReadChannel(QProcess.ProcessChannel.StandardError)
        while self._proc.canReadLine():
            self.stderr_line.emit(
                bytes(self._proc.readLine().data()).decode("utf-8", "replace").rstrip("\r\n")
            )
        self._proc.setReadChannel(QProcess.ProcessChannel.StandardOutput)

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        # Whatever is left, including a last line without a newline (a crash mid-write), still counts.
        self._on_ready_read_stdout()
        rest = bytes(self._proc.readAllStandardOutput().data())
        if rest:
            self._handle_stdout_line(rest)
        self._on_ready_read_stderr()
        err_rest = bytes(self._proc.readAllStandardError().data()).decode("utf-8", "replace").rstrip("\r\n")
        if err_rest:
            self.stderr_line.emit(err_rest)
        self._running = False
        crashed = status == QProcess.ExitStatus.CrashExit
        self.finished.emit(ProcessOutcome(code, crashed, self._last_event, list(self._errors)))

    @Slot(QProcess.ProcessError)
    def _on_error(self, error: QProcess.ProcessError) -> None:
        # Only a failure to start never reaches `finished`; other errors (a crash) are reported there.
        if error == QProcess.ProcessError.FailedToStart:
            self._running = False
            self.error_occurred.emit(f"Could not start {' '.join(self.command)}: {self._proc.errorString()}")

    # ---- attached: follow the run folder ------------------------------------------------------------------
    @Slot()
    def _on_poll(self) -> None:
        run = self._run
        if run is None:
            return
        alive = run.alive()  # checked before reading, so nothing written before death is missed
        for raw in run.new_event_lines():
            self._handle_stdout_line(raw)
        for raw in run.new_stderr_lines():
            self.stderr_line.emit(raw.decode("utf-8", "replace").rstrip("\r"))
        ended = self._last_event is not None and self._last_event.get("event") == "finished"
        if ended or not alive:
            self._poll.stop()
            self._running = False
            status = str(self._last_event.get("status")) if ended and self._last_event else ""
            code = run.exit_code()
            if code is None:
                code = run_status.EXIT_CODES.get(status)
            crashed = not ended or (code is not None and code < 0)
            outcome = ProcessOutcome(code, crashed, self._last_event, list(self._errors))
            self._run = None
            self.finished.emit(outcome)
