"""`tunedesk report RUN [RUN ...]`: a run's before/after report, or several runs side by side.

One run: the task and general losses (base vs tuned), the forgetting verdict, and where the HTML report is
(RUN_DIR/report.html, written again from the events). Several runs: one comparison table, and with --out an
HTML file of it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tunedesk.cli.main import add_command, print_json
from tunedesk.core.atomic import write_text_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.paths import runs_dir
from tunedesk.core.report.build import build_report, write_report
from tunedesk.core.report.html import compare_rows, render_compare_html

HELP = "a run's before/after report (task and general loss), or runs compared"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "report", run=run, help=HELP)
    p.add_argument("runs", nargs="+", metavar="RUN", help="a run folder or a run name from `tunedesk runs`")
    p.add_argument("--out", help="with several runs: write the comparison as HTML to this file")


def resolve_run(ref: str) -> Path:
    for candidate in (Path(ref).expanduser(), runs_dir() / ref):
        if (candidate / "config.json").is_file():
            return candidate.resolve()
    raise TuneDeskError(
        f"No run folder found for {ref!r}.",
        hint="Give a run folder, or a name listed by `tunedesk runs`.",
        kind="unknown_run",
        where={"folder": ref},
    )


def _value(v: object) -> str:
    if v is None:
        return "-"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def run(args: argparse.Namespace) -> int:
    folders = [resolve_run(r) for r in args.runs]
    if len(folders) == 1:
        html = write_report(folders[0])
        report = build_report(folders[0])
        if args.json:
            print_json({**report, "html": str(html)})
            return 0
        task, general = report["task"], report["general"]
        print(f"Run {report['run']['name']} ({report['run']['status']})")
        print(
            f"  task validation loss: base {_value(task['base_val_loss'])}, best {_value(task['best_val_loss'])}"
        )
        print(
            f"  general loss: base {_value(general['general_loss_base'])}, "
            f"tuned {_value(general['general_loss_tuned'])}"
        )
        print(f"  {general['verdict']}")
        if general["remedy"]:
            print(f"  {general['remedy']}")
        print(f"  report: {html}")
        return 0
    reports = [build_report(f) for f in folders]
    if args.out:
        write_text_atomic(Path(args.out), render_compare_html(reports))
    if args.json:
        print_json({"runs": reports, "html": args.out})
        return 0
    table = [("", *(r["run"]["name"] for r in reports))]
    table += [(label, *(_value(v) for v in values)) for label, values in compare_rows(reports)]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    if args.out:
        print(f"comparison: {args.out}")
    return 0
