"""`tunedesk runs`: the training runs on this machine, newest first, with their status and best score."""

from __future__ import annotations

import argparse

from tunedesk.cli.main import add_command, print_json
from tunedesk.core.runs import list_runs

HELP = "list training runs: status, steps, best validation loss, folder"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "runs", run=run, help=HELP)
    p.add_argument("--dir", help="the runs folder to list (default: TuneDesk's runs folder)")


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def run(args: argparse.Namespace) -> int:
    runs = list_runs(args.dir)
    if args.json:
        print_json([r.to_dict() for r in runs])
        return 0
    if not runs:
        print("No runs yet. Start one with `tunedesk train --model starter --data FILE`.")
        return 0
    rows = [("NAME", "STATUS", "STEPS", "BASE VAL", "BEST VAL", "FOLDER")]
    for r in runs:
        status = r.status + (" (resumable)" if r.resumable and r.status != "new" else "")
        rows.append(
            (
                r.name,
                status,
                f"{r.step}/{r.total_steps}",
                _loss(r.base_val_loss),
                _loss(r.best_val_loss),
                str(r.path),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0
