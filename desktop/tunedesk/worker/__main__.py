"""`python -m tunedesk.worker COMMAND ARGS...`: dispatch to tunedesk.worker.<command>.main(argv)."""

from __future__ import annotations

import importlib
import sys

from tunedesk.core import status as run_status
from tunedesk.core.offline import enforce_offline

COMMANDS = {"train": "train", "export": "export", "probe": "probe"}


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m tunedesk.worker {{{','.join(COMMANDS)}}} ...", file=sys.stderr)
        return run_status.EXIT_BAD_INPUT
    module = importlib.import_module(f"tunedesk.worker.{COMMANDS[argv[0]]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
