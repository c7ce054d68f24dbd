"""`tunedesk export RUN_DIR`: merge, convert to GGUF, quantize and verify, in the export worker subprocess."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tunedesk.cli.event_stream import EventStream
from tunedesk.cli.main import add_command, print_json
from tunedesk.core.export.quants import QUANT_NAMES
from tunedesk.core.launch import worker_command

STAGE_NAMES = {
    "merge": "Merge", "convert": "Convert", "quantize": "Quantize", "verify": "Verify", "base": "Base model",
}  # fmt: skip


HELP = "turn a trained run into a verified GGUF file (+ Ollama Modelfile)"
DESCRIPTION = (
    "Merge the run's adapter into its base model, convert it to GGUF with llama.cpp's converter, "
    "quantize it, and check the file against the merged model before handing it over."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "export", run=run, help=HELP, description=DESCRIPTION)
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run folder (see `tunedesk runs`)")
    p.add_argument(
        "--quant", choices=QUANT_NAMES, default=None, help="quantization (default: recommended for the model)"
    )
    p.add_argument(
        "--checkpoint", choices=("best", "final"), default=None, help="which adapter (default: best if any)"
    )
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default RUN_DIR/export)")


def export_args(args: argparse.Namespace) -> list[str]:
    cmd = ["export", str(args.run_dir)]
    for flag in ("quant", "checkpoint", "out"):
        if getattr(args, flag, None):
            cmd += [f"--{flag}", str(getattr(args, flag))]
    return cmd


def run_worker(argv: list[str], on_event: Any) -> int:
    """Start the export worker, hand each event to `on_event`, return its exit status."""
    stream = EventStream(worker_command(*argv))
    try:
        for event in stream:
            on_event(event)
        return stream.wait()
    except KeyboardInterrupt:
        stream.stop()
        raise


def _print_event(ev: dict[str, Any]) -> None:
    kind = ev["event"]
    if kind == "stage":
        name = STAGE_NAMES.get(ev["stage"], ev["stage"])
        if ev["status"] == "running" and ev.get("fraction", 0) == 0:
            print(f"[{name}] {ev.get('message', '')}", flush=True)
        elif ev["status"] == "done":
            print(f"[{name}] done: {ev.get('message', '')}", flush=True)
        elif ev["status"] == "failed":
            print(f"[{name}] FAILED: {ev.get('message', '')}", flush=True)
    elif kind == "log" and ev.get("level") == "warning":
        print(f"Warning: {ev['message']}", file=sys.stderr, flush=True)
    elif kind == "error":
        hint = ev.get("hint")
        print(f"Error: {ev['message']}" + (f"\n  What to do: {hint}" if hint else ""), file=sys.stderr)


def format_verification(v: dict[str, Any]) -> str:
    """The verdict in one sentence, then each figure with what it means (core.export.verdict)."""
    from tunedesk.core.export.verdict import verification_figures, verification_verdict

    lines = [verification_verdict(v)]
    for f in verification_figures(v):
        lines.append(f"  {f.name}: {f.value}" + (f"  ({f.meaning})" if f.meaning else ""))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    events: list[dict[str, Any]] = []

    def on_event(ev: dict[str, Any]) -> None:
        events.append(ev)
        if not args.json:
            _print_event(ev)

    rc = run_worker(export_args(args), on_event)
    finished = next((e for e in reversed(events) if e["event"] == "finished"), {})
    errors = [e for e in events if e["event"] == "error"]
    if args.json:
        out = {k: v for k, v in finished.items() if k not in ("v", "event", "t")}
        if errors:
            out["error"] = {k: errors[-1].get(k) for k in ("kind", "message", "hint", "where")}
        out.setdefault("status", "failed")
        print_json(out)
        return rc
    if finished.get("status") == "completed":
        print(f"\nGGUF file:  {finished['gguf_path']}")
        print(f"Modelfile:  {finished['modelfile_path']}  (ollama create my-model -f Modelfile)")
        print(f"Merged HF:  {finished['merged_path']}")
        if finished.get("system_prompt"):
            print(
                f"System prompt (from the training data, used by Modelfile and chat): {finished['system_prompt']}"
            )
        if finished.get("base_gguf_path"):
            print(f"Base model at the same quantization, to compare with: {finished['base_gguf_path']}")
        print("Verification:\n" + format_verification(finished.get("verification") or {}))
    elif not errors:
        print(f"The export ended without a result (exit status {rc}).", file=sys.stderr)
    return rc
