"""Control commands: parsing, the control file (read once, deleted), stdin, and EOF not being a cancel."""

from __future__ import annotations

import io
import time
from pathlib import Path

from tunedesk.core.training.control import Control, parse_command


def test_parse_command() -> None:
    assert parse_command('{"cmd": "pause"}\n') == "pause"
    assert parse_command(" Cancel ") == "cancel"
    assert parse_command('{"cmd": "explode"}') is None
    assert parse_command("{not json") is None
    assert parse_command("") is None


def test_control_file_is_applied_once_and_deleted(tmp_path: Path) -> None:
    path = tmp_path / "control"
    control = Control(path)
    path.write_text("pause")
    control.poll()
    assert control.paused and not path.exists()
    path.write_text('{"cmd": "resume"}')
    control.poll()
    assert not control.paused
    path.write_text("cancel")
    control.poll()
    assert control.cancelled


def test_stdin_commands_and_eof_is_not_a_cancel() -> None:
    control = Control(None, io.StringIO('{"cmd": "pause"}\nnonsense\n'))
    control.start(signals=False)
    deadline = time.monotonic() + 10
    while not control.paused and time.monotonic() < deadline:
        time.sleep(0.01)
        control.poll()
    assert control.paused and not control.cancelled  # the stream ended (EOF) after the commands


def test_cancel_ends_a_pause() -> None:
    control = Control(None)
    control.request("pause")
    control.poll()
    control.request("cancel", reason="SIGTERM")
    control.wait_while_paused(interval=0.01)
    assert control.cancelled and not control.paused and control.cancel_reason == "SIGTERM"
