"""Entry point of the `tunedesk` command.

No arguments starts the GUI. Each subcommand lives in its own module of this package exposing
``add_parser(subparsers)`` and ``run(args) -> int``; every one takes ``--json`` for machine-readable output.
A TuneDeskError becomes a readable message (or a JSON error object) and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

from tunedesk import __version__
from tunedesk.core import status as run_status
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.launch import SCRIPT_FLAG, WORKER_FLAG, run_script
from tunedesk.core.offline import enforce_offline

# subcommand -> module in tunedesk.cli
SUBCOMMANDS = {
    "setup": "setup_cmd",
    "doctor": "doctor_cmd",
    "data": "data_cmd",
    "train": "train_cmd",
    "resume": "train_cmd",
    "runs": "runs_cmd",
    "export": "export_cmd",
    "chat": "chat_cmd",
    "demo": "demo_cmd",
    "report": "report_cmd",
    "self-test": "selftest_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tunedesk",
        description="Fine-tune a small language model on your own machine, privately and offline. "
        "Run without arguments to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"tunedesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    seen: set[str] = set()
    for module_name in SUBCOMMANDS.values():
        if module_name in seen:
            continue
        seen.add(module_name)
        module = importlib.import_module(f"tunedesk.cli.{module_name}")
        module.add_parser(sub)
    return parser


def add_command(
    sub: argparse._SubParsersAction, name: str, *, run: Callable[[argparse.Namespace], int], **kwargs: Any
) -> argparse.ArgumentParser:
    """A subcommand (`kwargs` go to argparse: help, description) that `run` carries out, with `--json`."""
    parser = sub.add_parser(name, **kwargs)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    parser.set_defaults(func=run)
    return parser


def print_json(obj: object) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == WORKER_FLAG:
        # A frozen bundle has no `python -m`: it re-enters its own executable as the worker (core/launch.py).
        from tunedesk.worker.__main__ import main as worker_main

        return worker_main(argv[1:])
    if argv and argv[0] == SCRIPT_FLAG and len(argv) > 1:
        return run_script(argv[1], argv[2:])  # the converter, in a frozen bundle (core/launch.py)
    if not argv:
        from tunedesk.ui.app import main as gui_main

        return gui_main([])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return run_status.EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except TuneDeskError as err:
        if getattr(args, "json", False):
            print_json({"error": err.to_dict()})
        else:
            print(f"Error: {err}", file=sys.stderr)
        return run_status.EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return run_status.EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
