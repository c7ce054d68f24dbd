"""`python -m tunedesk.worker train RUN_DIR`: train the run in RUN_DIR, reporting protocol events on stdout.

stdout carries protocol events only (JSON lines, also appended to RUN_DIR/events.jsonl): anything a library
prints is redirected to stderr, with the python log (also in RUN_DIR/worker.log). stdin takes control
commands (see core/training/control.py). Exit status: 0 completed or early-stopped, 1 failed during training,
2 bad input found before training started, 3 cancelled.

Started by a distributed launcher (`accelerate launch -m tunedesk.worker train RUN_DIR`, or `tunedesk train
--processes N`), every process runs this; rank 0 alone speaks the protocol, reads control and writes the run
folder, the other ranks log to their stderr (see core/training/distributed.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tunedesk.core import status as run_status
from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.protocol import EventWriter
from tunedesk.core.runs import RunLayout, pid_info
from tunedesk.core.training.callbacks import TrainingCallback
from tunedesk.core.training.control import Control, RunCancelled

if TYPE_CHECKING:
    from tunedesk.core.training.distributed import World

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
            progress = {k: getattr(record, k) for k in ("stage", "fraction") if hasattr(record, k)}
            self.writer.emit("log", level=record.levelname.lower(), message=record.getMessage(), **progress)
        except (OSError, ValueError):
            pass  # a broken or closed pipe to the parent must not break training; events.jsonl has it


def setup_logging(layout: RunLayout, writer: EventWriter, rank: int = 0) -> None:
    fmt = logging.Formatter(
        f"%(asctime)s {f'[rank {rank}] ' if rank else ''}%(levelname)s %(name)s: %(message)s"
    )
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if rank == 0:  # worker.log and the log pane tell rank 0's story; other ranks keep to their stderr
        handlers.append(logging.FileHandler(layout.log, encoding="utf-8"))
        logging.getLogger("tunedesk").addHandler(EventLogHandler(writer))
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
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
    rank = int(os.environ.get("RANK", "0") or 0)  # set by a distributed launcher before the group exists
    if rank != 0:
        writer = EventWriter()  # a world of writers would repeat every event: only rank 0 speaks
        setup_logging(layout, writer, rank)
        try:
            return _run(layout, writer, main_rank=False)
        finally:
            logging.shutdown()
    if not layout.root.is_dir():
        EventWriter(events_out).emit(
            "error",
            kind="bad_config",
            message=f"{layout.root} is not a folder.",
            hint="Create the run with `tunedesk train`, or pick one listed by `tunedesk runs`.",
            where={"folder": str(layout.root)},
            traceback=None,
        )
        return run_status.EXIT_BAD_INPUT
    writer = EventWriter(events_out, layout.events)
    setup_logging(layout, writer)
    write_json_atomic(layout.pid, pid_info())
    try:
        return _run(layout, writer)
    finally:
        layout.pid.unlink(missing_ok=True)
        logging.shutdown()


def _run(layout: RunLayout, writer: EventWriter, *, main_rank: bool = True) -> int:
    from tunedesk.core.training.callbacks import CallbackList, EventCallback, LogCallback
    from tunedesk.core.training.distributed import leave_world

    # Other ranks take pause/cancel from rank 0 (their stdin is the same pipe: it is rank 0's to read).
    control = Control(layout.control, sys.stdin) if main_rank else Control()
    control.start()
    callbacks = CallbackList([EventCallback(writer), LogCallback()] if main_rank else [])
    worlds: list[World] = []
    try:
        return _train(layout, writer, control, callbacks, worlds)
    finally:
        for world in worlds:
            leave_world(world)


def _train(
    layout: RunLayout, writer: EventWriter, control: Control, callbacks: TrainingCallback, worlds: list[World]
) -> int:
    import torch

    from tunedesk.core.runs import load_config
    from tunedesk.core.training import recipe
    from tunedesk.core.training.distributed import join_world
    from tunedesk.core.training.model_setup import pick_device
    from tunedesk.core.training.power import keep_awake
    from tunedesk.core.training.resources import oom_error

    try:
        config = load_config(layout.root)
        worlds.append(join_world(pick_device(config.device), config.preset))
        s = recipe.setup(layout.root, worlds[0], control)
    except RunCancelled:  # during the start's general answers: no step yet, nothing to checkpoint
        writer.emit("finished", status="cancelled")
        return run_status.EXIT_CANCELLED
    except TuneDeskError as err:
        report_error(writer, err)
        return run_status.EXIT_BAD_INPUT
    except (MemoryError, torch.cuda.OutOfMemoryError) as err:
        device = "cuda" if isinstance(err, torch.cuda.OutOfMemoryError) else "cpu"
        report_error(writer, oom_error(load_config(layout.root).preset, device, err))
        return run_status.EXIT_FAILED
    except Exception as err:
        report_error(writer, err)
        return run_status.EXIT_FAILED
    try:
        with keep_awake(s.preset.prevent_sleep, f"TuneDesk is training {layout.root.name}"):
            status = recipe.fit(s, callbacks, control)
    except TuneDeskError as err:
        report_error(writer, err)
        return run_status.EXIT_FAILED
    except Exception as err:
        report_error(writer, err)
        return run_status.EXIT_FAILED
    if worlds[0].is_main:  # the run folder is rank 0's to write
        _write_report(layout)
    return run_status.exit_code(status)


def _write_report(layout: RunLayout) -> None:
    """RUN_DIR/report.html for every run that finished; a report that fails must not fail the run.

    Logged to worker.log only (the progress logger stays out of the events), so `finished` is the last event.
    """
    from tunedesk.core.report.build import write_report
    from tunedesk.core.training.callbacks import progress_log

    try:
        progress_log.info("report: %s", write_report(layout.root))
    except Exception:
        progress_log.exception("could not write the run's report (`tunedesk report RUN` tries again)")
