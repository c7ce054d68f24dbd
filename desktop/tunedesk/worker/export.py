"""`python -m tunedesk.worker export RUN_DIR [--quant Q] [--checkpoint best|final] [--out DIR] [--prompts N]`.

Emits protocol events on stdout (stage: merge, convert, quantize, verify; then finished) and appends them to
OUT/events.jsonl, apart from the run's training events. Exit status: 0 completed, 1 failed (an `error` event
was emitted), 2 refused before work started, 3 cancelled (SIGINT/SIGTERM).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from tunedesk.core import status as run_status
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.quants import QUANT_NAMES
from tunedesk.core.formatting import gb
from tunedesk.core.protocol import EventWriter
from tunedesk.core.storage_errors import storage_error_for


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tunedesk.worker export")
    p.add_argument("run_dir")
    p.add_argument("--quant", choices=QUANT_NAMES, default=None, help="default: recommended for the model")
    p.add_argument("--checkpoint", choices=("best", "final"), default=None, help="default: best if it exists")
    p.add_argument("--out", default=None, help="output folder (default RUN_DIR/export)")
    p.add_argument("--prompts", type=int, default=8, help="held-out prompts used to verify the GGUF")
    return p


def _on_term(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _on_term)
    run_dir = Path(args.run_dir)
    out_dir = Path(args.out) if args.out else run_dir / "export"
    writer = EventWriter(stream=sys.stdout)

    def emit(event: str, /, **fields: Any) -> dict[str, Any]:
        return writer.emit(event, **fields)

    from tunedesk.core.export.pipeline import plan_export, run_export

    try:
        plan = plan_export(run_dir, quant=args.quant, checkpoint=args.checkpoint, out=args.out, emit=emit)
    except TuneDeskError as err:
        emit("error", **err.to_dict())
        emit("finished", status="failed", message=err.message)
        return run_status.EXIT_BAD_INPUT
    out_dir.mkdir(parents=True, exist_ok=True)
    writer.log_path = out_dir / "events.jsonl"
    emit(
        "log",
        message=f"Exporting {run_dir.name}: {plan.choice.checkpoint} adapter, {plan.quant} ({plan.quant_reason}), "
        f"about {gb(plan.needed_bytes / 2**20)} of disk.",
        level="info",
    )
    try:
        result = run_export(plan, emit, n_prompts=args.prompts)
    except TuneDeskError as err:
        emit("error", **err.to_dict())
        emit("finished", status="failed", message=err.message, quant=plan.quant)
        return run_status.EXIT_FAILED
    except KeyboardInterrupt:
        emit("finished", status="cancelled", quant=plan.quant)
        return run_status.EXIT_CANCELLED
    except Exception as exc:  # noqa: BLE001 - an unexpected failure still ends as an event, not a bare traceback
        storage = storage_error_for(exc, out_dir, "writing the export", "the run and its adapter are intact")
        if storage is not None:  # a full disk, a read-only or vanished folder: not a bug, say it plainly
            emit("error", **storage.to_dict())
            emit("finished", status="failed", message=storage.message, quant=plan.quant)
            return 1
        emit(
            "error",
            kind="internal",
            message=f"The export failed unexpectedly: {exc}",
            hint="Please report this with the details below.",
            where={},
            traceback=traceback.format_exc(),
        )
        emit("finished", status="failed", message=str(exc), quant=plan.quant)
        return run_status.EXIT_FAILED
    emit("finished", **result)
    return 0
