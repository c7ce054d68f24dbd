"""`tunedesk data inspect FILE`: read a dataset the way training will, and report on its quality."""

from __future__ import annotations

import argparse

from tunedesk.cli.main import add_command, print_json
from tunedesk.core import status as run_status

HELP = "report the format, the problems (with line numbers) and the token lengths of a dataset"
DESCRIPTION = (
    "Read FILE (JSONL, JSON, CSV, Parquet, .txt/.md, or a folder of notes) as training would, "
    "list every problem with its line, and with --model count tokens through that model's chat template."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="check a dataset before training on it")
    data_sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    p.set_defaults(func=lambda _args: _usage(p))
    inspect = add_command(data_sub, "inspect", run=run_inspect, help=HELP, description=DESCRIPTION)
    inspect.add_argument("file", metavar="FILE", help="dataset file or folder of .txt/.md notes")
    inspect.add_argument(
        "--model", help="count tokens with this model's tokenizer: 'starter', a folder or a .gguf"
    )
    inspect.add_argument(
        "--seq-len",
        type=int,
        default=None,
        help="report rows longer than this many tokens (default with --model: what training would choose)",
    )
    inspect.add_argument(
        "--drop-long", action="store_true", help="count rows longer than --seq-len as dropped"
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return run_status.EXIT_BAD_INPUT


def _advised_seq_len(path: str, model: str) -> int:
    """The sequence length training would choose for this data (core.presets.advise), so "longer than" and the
    histogram's cut-off match the Train page."""
    from tunedesk.core.models.info import model_info
    from tunedesk.core.models.source import resolve_model
    from tunedesk.core.presets.advise import advised_seq_len, measure_data

    source = resolve_model(model)
    info = model_info(source)
    return advised_seq_len(info, measure_data(path, source, info).stats)


def run_inspect(args: argparse.Namespace) -> int:
    from tunedesk.core.data import inspect_dataset
    from tunedesk.core.errors import TuneDeskError

    if args.seq_len is not None and args.seq_len < 8:
        raise TuneDeskError("--seq-len must be at least 8 tokens.", hint="Try --seq-len 512.", kind="usage")
    tokenizer = None
    if args.model:
        from tunedesk.core.models.cache import load_tokenizer  # slow import (transformers): only when asked

        tokenizer = load_tokenizer(args.model)
        if args.seq_len is None:
            args.seq_len = _advised_seq_len(args.file, args.model)
    report = inspect_dataset(args.file, tokenizer=tokenizer, seq_len=args.seq_len, drop_long=args.drop_long)
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.to_text())
        if tokenizer is None:
            print("(Add --model starter to see token lengths.)")
    return 0
