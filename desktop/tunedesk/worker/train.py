"""`python -m tunedesk.worker train RUN_DIR`: train the run in RUN_DIR, reporting protocol events on stdout.

stdout carries protocol events only (JSON lines, also appended to RUN_DIR/events.jsonl): anything a library
prints is redirected to stderr, with the python log (also in RUN_DIR/worker.log). stdin takes control
commands (see core/training/control.py). Exit status: 0 completed or early-stopped, 1 failed during training,
2 bad input found before training started, 3 cancelled.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path
from typing import IO

from tunedesk.core import status as run_status
from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.protocol import EventWriter
from tunedesk.core.runs import RunLayout, pid_info

log = logging.getLogger("tunedesk.worker")


class EventLogHandler(logging.Handler):
    """TuneDesk's own INFO+ log lines as `log` events, for the GUI's log pane."""

    def __init__(self, writer: EventWriter) -> None:
        super().__init__(logging.INFO)
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("tunedesk.training.progress"):
            return
        try:
            self.writer.emit("log", level=record.levelname.lower(), message=record.getMessage())
        except (OSError, ValueError):
            pass  # a broken or closed pipe to the parent must not break training; events.jsonl has it


def setup_logging(layout: RunLayout, writer: EventWriter) -> None:
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in (logging.StreamHandler(sys.stderr), logging.FileHandler(layout.log, encoding="utf-8")):
        handler.setFormatter(fmt)
        root.addHandler(handler)
    logging.getLogger("tunedesk").addHandler(EventLogHandler(writer))
    logging.captureWarnings(True)


def report_error(writer: EventWriter, err: BaseException) -> None:
    """An `error` event, then `finished` status failed. Expected errors carry no traceback: their message says
    it all (the log keeps the stack for developers); unexpected ones carry it, one click away in the GUI."""
    if isinstance(err, TuneDeskError):
        log.debug("error details", exc_info=err)
        log.error("%s", err)
        fields = {**err.to_dict(), "traceback": None}
    else:
        tb = "".join(traceback.format_exception(err))
        log.error("training failed unexpectedly:\n%s", tb)
        fields = {
            "kind": "internal",
            "message": f"Training failed unexpectedly: {type(err).__name__}: {err}",
            "hint": "This is a bug in TuneDesk or a library it uses: the details are in worker.log. "
            "`tunedesk resume` continues from the last checkpoint.",
            "where": {},
            "traceback": tb,
        }
    writer.emit("error", **fields)
    writer.emit("finished", status="failed")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunedesk.worker train")
    parser.add_argument("run_dir", help="a run folder with config.json (see core/runs.py)")
    args = parser.parse_args(argv)
    layout = RunLayout(Path(args.run_dir).expanduser().resolve())
    events_out: IO[str] = sys.stdout
    sys.stdout = sys.stderr  # stray prints from libraries must not corrupt the protocol
    if not layout.root.is_dir():
        EventWriter(events_out).emit(
            "error",
            kind="bad_config",
            message=f"{layout.root} is not a folder.",
            hint="Create the run with `tunedesk train`, or pick one listed by `tunedesk runs`.",
            where={"folder": str(layout.root)},
            traceback=None,
        )
        return 2
    writer = EventWriter(events_out, layout.events)
    setup_logging(layout, writer)
    write_json_atomic(layout.pid, pid_info())
    try:
        return _run(layout, writer)
    finally:
        layout.pid.unlink(missing_ok=True)
        logging.shutdown()


def _run(layout: RunLayout, writer: EventWriter) -> int:
    import torch

    from tunedesk.core.training import recipe
    from tunedesk.core.training.callbacks import CallbackList, EventCallback, LogCallback
    from tunedesk.core.training.control import Control
    from tunedesk.core.training.power import keep_awake
    from tunedesk.core.training.resources import oom_error

    control = Control(layout.control, sys.stdin)
    control.start()
    callbacks = CallbackList([EventCallback(writer), LogCallback()])
    try:
        s = recipe.setup(layout.root)
    except TuneDeskError as err:
        report_error(writer, err)
        return 2
    except (MemoryError, torch.cuda.OutOfMemoryError) as err:
        from tunedesk.core.runs import load_config

        device = "cuda" if isinstance(err, torch.cuda.OutOfMemoryError) else "cpu"
        report_error(writer, oom_error(load_config(layout.root).preset, device, err))
        return 1
    except Exception as err:
        report_error(writer, err)
        return 1
    try:
        with keep_awake(s.preset.prevent_sleep, f"TuneDesk is training {layout.root.name}"):
            status = recipe.fit(s, callbacks, control)
    except TuneDeskError as err:
        report_error(writer, err)
        return 1
    except Exception as err:
        report_error(writer, err)
        return 1
    return run_status.exit_code(status)
