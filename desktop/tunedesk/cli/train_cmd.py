"""`tunedesk train` and `tunedesk resume`: write a run's config, start the training worker, follow it.

Training always happens in a worker subprocess (`python -m tunedesk.worker train RUN_DIR`); this command
only chooses the preset, writes RUN_DIR/config.json and shows the worker's events as one live line (or
forwards them raw with --json). Ctrl-C asks the worker to cancel cleanly (it finishes the step and saves a
checkpoint, so `tunedesk resume` continues later); a second Ctrl-C stops it at once.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tunedesk.cli.event_stream import EventStream
from tunedesk.cli.main import add_command
from tunedesk.cli.progress_line import ConsoleProgress
from tunedesk.core import status as run_status
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset, parse_set_args
from tunedesk.core.runs import (
    RunConfig,
    RunLayout,
    create_run,
    load_config,
    summarize_run,
    worker_alive,
)
from tunedesk.core.training.callbacks import TrainingCallback, dispatch_event
from tunedesk.core.training.launcher import train_command

TRAIN_HELP = "fine-tune a model on your data (runs in a worker process; Ctrl-C cancels cleanly)"
TRAIN_DESCRIPTION = (
    "Fine-tune a model on a dataset. The preset is chosen for this machine, the model and the "
    "data unless you name one; --set changes any of its fields."
)
RESUME_HELP = "continue a cancelled or crashed run from its last checkpoint"
RESUME_DESCRIPTION = (
    "Continue a run from its last complete checkpoint, with the same data order, optimizer and "
    "random state as if it had never stopped."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "train", run=run_train, help=TRAIN_HELP, description=TRAIN_DESCRIPTION)
    p.add_argument(
        "--model",
        help="'starter', a model folder, a .gguf file or a cached org/name (required without --from-run)",
    )
    p.add_argument(
        "--from-run",
        metavar="RUN_DIR",
        help="continue from that run's adapter (its best, else final) on its model: e.g. SFT first, then "
        "--preset dpo on preference pairs",
    )
    p.add_argument("--data", required=True, help="the dataset file or folder (see `tunedesk data inspect`)")
    p.add_argument(
        "--preset",
        default="auto",
        help="auto (default: sized to this machine and data; DPO for preference pairs), a shipped preset's name, "
        "or a .toml file",
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a preset field")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--epochs", type=float, help="passes over the training data")
    p.add_argument("--out", help="the run folder to create (default: a new folder under the runs folder)")
    p.add_argument("--name", default="", help="a human name for the run")
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="train data-parallel on N processes through accelerate (one per GPU; on a CPU they share the "
        "cores); batch_size is per process (see docs/distributed.md)",
    )
    p.add_argument(
        "--create-only",
        action="store_true",
        help="write the run folder and stop: to start it yourself, e.g. with `accelerate launch` on several "
        "machines (docs/distributed.md)",
    )
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="accept a model stored only as pickle files (they can run code)",
    )
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="run the model folder's own Python code (only if you trust it)",
    )

    r = add_command(sub, "resume", run=run_resume, help=RESUME_HELP, description=RESUME_DESCRIPTION)
    r.add_argument("run_dir", help="the run folder (see `tunedesk runs`)")


# ---- train ------------------------------------------------------------------------------------------
def run_train(args: argparse.Namespace) -> int:
    if args.processes < 1:
        raise TuneDeskError(
            f"--processes {args.processes}: at least one process is needed.",
            hint="Use --processes 1 (the default) or the number of GPUs to train on.",
            kind="bad_setting",
            where={"field": "processes"},
        )
    data = Path(args.data).expanduser().resolve()
    if not data.exists():
        raise TuneDeskError(
            f"The dataset {args.data} does not exist.",
            hint="Check the path.",
            kind="bad_data",
            where={"file": args.data},
        )
    overrides: dict[str, Any] = parse_set_args(args.set)
    if args.from_run:
        args.model = continue_from_run(args, overrides)
    elif not args.model:
        raise TuneDeskError(
            "Which model should be trained?",
            hint="Give --model (e.g. --model starter) or --from-run RUN_DIR.",
        )
    if args.max_steps is not None:
        overrides["max_steps"] = args.max_steps
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    from tunedesk.core.models.source import resolve_model

    source = resolve_model(
        args.model, allow_pickle=args.allow_pickle, trust_remote_code=args.trust_remote_code
    )
    preset, device, notes = choose_preset(args.preset, source, data, overrides)
    model_ref = (
        args.model
        if args.model == "starter" or not Path(args.model).expanduser().exists()
        else str(Path(args.model).expanduser().resolve())
    )
    config = RunConfig(
        model=model_ref,
        data=str(data),
        preset=preset,
        device=device,
        name=args.name,
        allow_pickle=args.allow_pickle,
        trust_remote_code=args.trust_remote_code,
        processes=args.processes,
    )
    check_processes(args.processes, preset, device)
    layout = create_run(config, args.out)
    if not args.json:
        print(f"Run folder: {layout.root}")
        print(
            f"Preset: {preset.name} ({preset.method}, batch {preset.batch_size}x{preset.grad_accum}, "
            f"seq_len {preset.seq_len}, lr {preset.learning_rate:g}) on {device}"
            + (f", {args.processes} processes" if args.processes > 1 else "")
        )
        if args.processes > 1:
            from tunedesk.core.formatting import gb
            from tunedesk.core.models.info import model_info
            from tunedesk.core.presets.memory import estimate_memory

            global_batch = preset.batch_size * preset.grad_accum * args.processes
            each = estimate_memory(model_info(source), preset, device, None, processes=args.processes)
            split = ", the weights split among them (fsdp)" if preset.sharding == "fsdp" else ""
            print(
                f"  {args.processes} processes: {global_batch} examples per update in all (batch per process); "
                f"about {gb(each.total_mb)} of memory each{split}."
            )
        for line in notes:
            print(f"  {line}")
    if args.create_only:
        if not args.json:
            print(
                f"Created, not started. Start it with: accelerate launch -m tunedesk.worker train {layout.root}"
            )
        return 0
    return follow_worker(layout, json_mode=args.json)


def check_processes(processes: int, preset: Preset, device: str) -> None:
    """Refuse, before anything starts, what several processes cannot do here."""
    if processes <= 1:
        return
    from tunedesk.core.training.distributed import check_parallel_preset

    check_parallel_preset(preset)
    if device == "cuda":
        from tunedesk.core.hardware.probe import probe_hardware

        gpus = len(probe_hardware().cuda)
        if processes > gpus:
            raise TuneDeskError(
                f"--processes {processes}: this machine has {gpus} GPU(s), and each process needs its own.",
                hint=f"Use --processes {gpus} or fewer (several machines: see docs/distributed.md).",
                kind="bad_setting",
                where={"field": "processes"},
            )


def continue_from_run(args: argparse.Namespace, overrides: dict[str, Any]) -> str:
    """The model of the run named by --from-run; sets init_adapter and that run's consents on the way."""
    from tunedesk.core.training.init_adapter import resolve_init_adapter

    earlier = load_config(Path(args.from_run).expanduser().resolve())
    if args.model and args.model != earlier.model:
        raise TuneDeskError(
            f"--model {args.model} differs from the model {earlier.model} that {args.from_run} trained.",
            hint="Leave out --model: a run continues on the model its adapter was trained on.",
            kind="bad_setting",
            where={"field": "model"},
        )
    overrides["init_adapter"] = str(resolve_init_adapter(args.from_run))
    args.allow_pickle = args.allow_pickle or earlier.allow_pickle
    args.trust_remote_code = args.trust_remote_code or earlier.trust_remote_code
    return earlier.model


def choose_preset(
    requested: str, source: Any, data: Path, overrides: dict[str, Any]
) -> tuple[Preset, str, list[str]]:
    """(preset, device, lines to show): the selector's pick for this machine, model and data (a named or
    file preset is sized the same way; fields the user wrote down or --set win)."""
    from tunedesk.core.hardware.probe import probe_hardware
    from tunedesk.core.models.info import model_info
    from tunedesk.core.presets.advise import advise, measure_data

    info = model_info(source)
    sel = advise(probe_hardware(), info, measure_data(data, source, info), overrides, requested=requested)
    notes = [*sel.reasons, *(f"Warning: {w}" for w in sel.warnings)]
    return sel.preset, sel.device, notes


# ---- resume -----------------------------------------------------------------------------------------
def run_resume(args: argparse.Namespace) -> int:
    layout = RunLayout(Path(args.run_dir).expanduser().resolve())
    load_config(layout.root)  # a readable error now rather than from the worker
    if worker_alive(layout):
        raise TuneDeskError(
            f"A worker is already training {layout.root}.",
            hint="Wait for it, or cancel it first (write 'cancel' into the run's control file).",
            kind="run_busy",
            where={"folder": str(layout.root)},
        )
    summary = summarize_run(layout.root)
    if run_status.is_success(summary.status):
        raise TuneDeskError(
            f"The run {layout.root.name} already finished ({summary.status}); there is nothing to resume.",
            hint=f"Export it with `tunedesk export {layout.root}`, or start a new run with `tunedesk train`.",
            kind="nothing_to_resume",
            where={"folder": str(layout.root)},
        )
    if not args.json:
        print(f"Resuming {layout.root} (status {summary.status}, step {summary.step}/{summary.total_steps})")
    return follow_worker(layout, json_mode=args.json)


# ---- following the worker ---------------------------------------------------------------------------
class _Interrupts:
    """First Ctrl-C: ask the worker to cancel cleanly. Second: kill it."""

    def __init__(self, proc: subprocess.Popen[str], quiet: bool) -> None:
        self.proc, self.quiet, self.count = proc, quiet, 0

    def __call__(self, signum: int, _frame: object) -> None:
        self.count += 1
        if self.count == 1:
            if not self.quiet:
                print(
                    "\nCancelling: finishing this step and saving a checkpoint (Ctrl-C again to stop at once)...",
                    file=sys.stderr,
                )
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"cmd": "cancel"}) + "\n")
                self.proc.stdin.flush()
            except (OSError, ValueError):
                self.proc.terminate()
        else:
            self.proc.kill()


def follow_worker(layout: RunLayout, *, json_mode: bool, callback: TrainingCallback | None = None) -> int:
    """Start the worker on `layout`, show or forward its events until it exits; return the exit status."""
    stream = EventStream(train_command(layout, load_config(layout.root)), stdin=True)
    proc = stream.proc
    interrupts = _Interrupts(proc, json_mode)
    old = signal.signal(signal.SIGINT, interrupts)
    console = callback or (None if json_mode else ConsoleProgress(layout.root))
    finished: dict[str, Any] | None = None
    errored = False
    try:
        for line, event in stream.lines():
            if event is None:
                continue
            if json_mode:
                sys.stdout.write(line if line.endswith("\n") else line + "\n")
                sys.stdout.flush()
            if console is not None:
                dispatch_event(console, event)
            if event["event"] == "finished":
                finished = event
            elif event["event"] == "error":
                errored = True
        proc.wait()
    finally:
        signal.signal(signal.SIGINT, old)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if interrupts.count >= 2:
        return run_status.EXIT_INTERRUPTED
    if finished is None:
        if not json_mode:
            print(
                f"\nThe training worker stopped unexpectedly (exit status {proc.returncode}).",
                file=sys.stderr,
            )
            print(stream.stderr_tail().rstrip()[-3000:], file=sys.stderr)
            print(f"Its log: {layout.log}. Continue with `tunedesk resume {layout.root}`.", file=sys.stderr)
        if proc.returncode in (0, None):
            return run_status.EXIT_FAILED
        return run_status.EXIT_INTERRUPTED if proc.returncode < 0 else proc.returncode
    status = finished["status"]
    if status == "failed" and errored and proc.returncode == run_status.EXIT_BAD_INPUT:
        return run_status.EXIT_BAD_INPUT
    return run_status.exit_code(status)
