"""`python -m tunedesk.worker probe [--no-benchmark]`: print this machine's HardwareInfo as one JSON object.

stdout carries only that object (the parent parses it); anything the libraries print goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunedesk.worker probe")
    parser.add_argument("--no-benchmark", action="store_true", help="skip the fp32/bf16 CPU matmul benchmark")
    args = parser.parse_args(argv)

    from tunedesk.core.hardware.probe import probe_in_process

    with contextlib.redirect_stdout(sys.stderr):
        info = probe_in_process(benchmark=not args.no_benchmark)
    sys.stdout.write(json.dumps(info.to_dict(), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0
