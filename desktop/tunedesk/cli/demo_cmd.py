"""`tunedesk demo`: the whole pipeline on the embedded defaults, in one command.

doctor (hardware + preset) -> a short training run of the starter model on the sample dataset (the real
`tunedesk train` in a subprocess, with settings chosen for speed) -> export to q8_0 GGUF with verification
-> one held-out ticket answered by the tuned GGUF next to the base model, plus how often each answers
held-out tickets in the trained one-line format.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from tunedesk.cli.event_stream import EventStream
from tunedesk.cli.export_cmd import format_verification, run_worker
from tunedesk.cli.main import add_command, print_json
from tunedesk.core import status as run_status
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.launch import cli_command, worker_env
from tunedesk.core.paths import runs_dir, sample_dataset

# Chosen for speed on a laptop CPU: the sample format is learnt within about 20 steps at this learning rate.
DEMO_SETTINGS = {
    "batch_size": "4",
    "grad_accum": "1",
    "learning_rate": "1e-3",
    "seq_len": "256",
    "eval_every": "12",
    "sample_prompts": "0",
    "early_stopping_patience": "0",
    # The demo shows the pipeline in minutes: no general answers to make first (its report still measures).
    "general_data_fraction": "0",
}
DEMO_STEPS = 40


HELP = "train, export and chat with the starter model on the sample data (a few minutes)"
DESCRIPTION = __doc__.split("\n\n")[0] if __doc__ else None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "demo", run=run, help=HELP, description=DESCRIPTION)
    p.add_argument(
        "--out", metavar="DIR", default=None, help="folder for the demo's run (default: a new run folder)"
    )
    p.add_argument("--steps", type=int, default=DEMO_STEPS, help=f"training steps (default {DEMO_STEPS})")
    p.add_argument("--eval-rows", type=int, default=8, help="held-out tickets used to compare the models")


class Say:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, text: str = "", end: str = "\n") -> None:
        if not self.quiet:
            print(text, end=end, flush=True)


def _doctor(say: Say) -> dict[str, Any]:
    proc = subprocess.run(
        cli_command("doctor", "--model", "starter", "--data", str(sample_dataset()), "--json"),
        capture_output=True,
        text=True,
        env=worker_env(),
    )
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        raise TuneDeskError(
            "`tunedesk doctor` failed: " + (proc.stderr.strip()[-1500:] or f"exit status {proc.returncode}"),
            hint="Run `tunedesk doctor --model starter` to see what is missing.",
            kind="demo_failed",
        ) from None
    if "error" in info:
        raise TuneDeskError(info["error"]["message"], hint=info["error"].get("hint", ""), kind="demo_failed")
    hw = info.get("hardware", {})
    say(f"[1/4] Machine: {hw.get('summary', '?')}")
    return info


def train_on_sample(
    run_dir: Path, steps: int, say: Say, *, settings: dict[str, str] = DEMO_SETTINGS, purpose: str = "demo"
) -> dict[str, Any]:
    """`tunedesk train` of the starter model on the sample data (a worker subprocess); its `finished` event."""
    args = ["train", "--model", "starter", "--data", str(sample_dataset()), "--max-steps", str(steps)]
    for key, value in settings.items():
        args += ["--set", f"{key}={value}"]
    args += ["--out", str(run_dir), "--name", purpose, "--json"]
    stream = EventStream(cli_command(*args))
    finished: dict[str, Any] = {}
    error: dict[str, Any] = {}
    for ev in stream:
        if ev["event"] == "step" and (ev["step"] % 4 == 0 or ev["step"] == ev["total_steps"]):
            say(f"      step {ev['step']}/{ev['total_steps']}  loss {ev['loss']:.3f}")
        elif ev["event"] == "eval":
            say(f"      validation loss at step {ev['step']}: {ev['val_loss']:.3f}")
        elif ev["event"] == "finished":
            finished = ev
        elif ev["event"] == "error":
            error = ev
    rc = stream.wait()
    stderr = stream.stderr_tail()
    if rc != 0 or not run_status.is_success(finished.get("status")):
        message = error.get("message") or stderr.strip()[-1500:] or f"exit status {rc}"
        raise TuneDeskError(
            f"The {purpose}'s training run failed: {message}",
            hint=error.get("hint", ""),
            kind=f"{purpose}_failed",
        )
    return finished


def export_q8(run_dir: Path, say: Say, *, prompts: int = 4, purpose: str = "demo") -> dict[str, Any]:
    """The export worker: q8_0 GGUF of `run_dir`, verified with `prompts` prompts; its `finished` event."""
    events: list[dict[str, Any]] = []

    def on_event(ev: dict[str, Any]) -> None:
        events.append(ev)
        if ev["event"] == "stage" and ev["status"] in ("done", "failed"):
            say(f"      {ev['stage']}: {ev.get('message', '')}")

    rc = run_worker(["export", str(run_dir), "--quant", "q8_0", "--prompts", str(prompts)], on_event)
    finished = next((e for e in reversed(events) if e["event"] == "finished"), {})
    if rc != 0 or finished.get("status") != "completed":
        err = next((e for e in reversed(events) if e["event"] == "error"), {})
        raise TuneDeskError(
            f"The {purpose}'s export failed: {err.get('message', f'exit status {rc}')}",
            hint=err.get("hint", ""),
            kind=f"{purpose}_failed",
        )
    return finished


def held_out_rows(run_dir: Path, n: int) -> list[list[dict[str, str]]]:
    rows = []
    with open(run_dir / "data" / "val.jsonl", encoding="utf-8") as fh:
        for line in fh:
            msgs = json.loads(line).get("messages") or []
            if len(msgs) >= 2 and msgs[-1]["role"] == "assistant":
                rows.append(msgs)
            if len(rows) >= n:
                break
    return rows


def answer_rows(gguf: str | Path, rows: list[list[dict[str, str]]], max_tokens: int = 64) -> list[str]:
    """Greedy answers of a GGUF model to held-out tickets, each asked in a fresh conversation."""
    from tunedesk.core.chat import ChatEngine

    engine = ChatEngine(gguf, n_ctx=1024)
    answers = []
    for msgs in rows:
        system = next((m["content"] for m in msgs if m["role"] == "system"), None)
        engine.reset()
        engine.system_prompt = system
        user = [m for m in msgs if m["role"] == "user"][-1]["content"]
        answers.append(engine.ask(user, temperature=0.0, max_tokens=max_tokens).strip())
    return answers


def run(args: argparse.Namespace) -> int:
    from tunedesk.core.data.sample import is_sample_format
    from tunedesk.core.vendor import require_starter

    say = Say(args.json)
    started = time.time()
    run_dir = Path(args.out) if args.out else runs_dir() / time.strftime("demo-%Y%m%d-%H%M%S")
    starter = require_starter()
    doctor = _doctor(say)
    t0 = time.time()
    say(f"[2/4] Training the starter model on the sample tickets for {args.steps} steps (LoRA on CPU)...")
    trained = train_on_sample(run_dir, args.steps, say)
    t_train = time.time() - t0
    t0 = time.time()
    say("[3/4] Exporting to GGUF (q8_0) and verifying it...")
    exported = export_q8(run_dir, say)
    t_export = time.time() - t0
    say("[4/4] Asking held-out tickets (never seen in training): tuned GGUF vs the base model...")
    rows = held_out_rows(run_dir, args.eval_rows)
    tuned = answer_rows(exported["gguf_path"], rows)
    # Like with like: the base at the tuned file's quantization when the export made it, else the starter.
    base_gguf = Path(exported.get("base_gguf_path") or starter)
    base = answer_rows(base_gguf, rows)
    tuned_ok = sum(is_sample_format(a) for a in tuned)
    base_ok = sum(is_sample_format(a) for a in base)
    ticket = [m for m in rows[0] if m["role"] == "user"][-1]["content"] if rows else ""
    result = {
        "run_dir": str(run_dir),
        "preset": (doctor.get("selection") or doctor.get("preset") or {}),
        "training": {
            k: trained.get(k) for k in ("status", "steps", "best_val_loss", "base_val_loss", "adapter_path")
        },
        "gguf_path": exported["gguf_path"],
        "modelfile_path": exported["modelfile_path"],
        "merged_path": exported["merged_path"],
        "verification": exported.get("verification"),
        "ticket": ticket,
        "reference": rows[0][-1]["content"] if rows else "",
        "tuned_answer": tuned[0] if tuned else "",
        "base_answer": base[0] if base else "",
        "base_gguf_path": str(base_gguf),
        "held_out_format": {"rows": len(rows), "tuned": tuned_ok, "base": base_ok},
        "seconds": {
            "train": round(t_train, 1),
            "export": round(t_export, 1),
            "total": round(time.time() - started, 1),
        },
    }
    if args.json:
        print_json(result)
        return 0
    say("\nHeld-out ticket:\n  " + ticket.replace("\n", "\n  "))
    say(f"\nTuned model ({Path(exported['gguf_path']).name}):\n  {result['tuned_answer']}")
    say(f"Base model ({base_gguf.name}):\n  {result['base_answer'][:300]}")
    say(
        f"\nIn the trained one-line format: tuned {tuned_ok}/{len(rows)} held-out tickets, base {base_ok}/{len(rows)}."
    )
    say("Verification:\n" + format_verification(exported.get("verification") or {}))
    say(
        f"\nRun folder: {run_dir}\nGGUF file:  {exported['gguf_path']}\nModelfile:  {exported['modelfile_path']}"
    )
    say(f"Chat with it: tunedesk chat {exported['gguf_path']}")
    say(f"(train {t_train:.0f} s, export {t_export:.0f} s, total {time.time() - started:.0f} s)")
    return 0
