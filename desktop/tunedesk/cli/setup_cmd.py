"""`tunedesk setup`: install the GGUF converter and the starter model (the one step that uses the network)."""

from __future__ import annotations

import argparse

from tunedesk.cli.main import add_command, print_json
from tunedesk.core import vendor

HELP = "install llama.cpp's converter and the starter model (once, while online)"
DESCRIPTION = vendor.__doc__.split("\n\n")[0] if vendor.__doc__ else None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "setup", run=run, help=HELP, description=DESCRIPTION)
    p.add_argument("--force", action="store_true", help="reinstall even if present")


def run(args: argparse.Namespace) -> int:
    quiet = args.json
    st = vendor.install_vendor(force=args.force, log=(lambda *_: None) if quiet else print)
    if args.json:
        print_json(st.to_dict())
    else:
        print(f"Converter: {st.converter}\nStarter model: {st.starter}")
    return 0 if st.converter and st.starter else 1
