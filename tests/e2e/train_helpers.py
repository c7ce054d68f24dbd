"""Helpers for the training end-to-end tests: a small chat dataset, run folders, running and talking to the
worker subprocess."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

from tunedesk.core.launch import worker_command, worker_env
from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import decode, read_events
from tunedesk.core.runs import RunConfig, create_run

PRODUCTS = ["printer", "laptop", "router", "phone", "monitor", "keyboard", "camera", "tablet"]
PROBLEMS = ["will not turn on", "is very slow", "keeps disconnecting", "shows an error code", "makes a noise"]
MOODS = ["calm", "annoyed", "angry"]


def write_chat_jsonl(path: Path, n: int = 48, seed: int = 0) -> Path:
    """n support tickets with one-line triage answers: a fixed format a model can learn in a few steps."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        product, problem, mood = rng.choice(PRODUCTS), rng.choice(PROBLEMS), rng.choice(MOODS)
        ticket = f"Ticket {i}: my {product} {problem}. I am {mood}. Please help."
        answer = f"PRODUCT={product} | ISSUE={problem.replace(' ', '_')} | MOOD={mood}"
        messages = [
            {"role": "system", "content": "Summarize the ticket in one triage line."},
            {"role": "user", "content": ticket},
            {"role": "assistant", "content": answer},
        ]
        lines.append(json.dumps({"messages": messages}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Fast defaults for the tiny model: a few steps, small batches, evaluation and checkpoints every 2 steps.
FAST = {
    "name": "test",
    "max_steps": 6,
    "batch_size": 4,
    "grad_accum": 1,
    "seq_len": 128,
    "learning_rate": 1e-3,
    "eval_every": 2,
    "sample_prompts": 1,
    "sample_max_tokens": 4,
    "keep_checkpoints": 2,
    "val_max": 8,
}

# For resume tests: dropout on, so a resumed run only matches an uninterrupted one if the RNG state came back
# too; a check and a checkpoint every 2 steps; micro-batches accumulated, so a step has an inside.
RESUMABLE = {
    "max_steps": 10,
    "eval_every": 2,
    "save_every": 0,
    "lora_dropout": 0.3,
    "sample_prompts": 0,
    "keep_checkpoints": 5,
    "batch_size": 2,
    "grad_accum": 2,
}


def make_run(root: Path, model: Path | str, data: Path, **preset: Any) -> Path:
    config = RunConfig(
        model=str(model), data=str(data), preset=Preset.from_dict({**FAST, **preset}), device="cpu"
    )
    return create_run(config, root).root


def worker(run_dir: Path, *, env: dict[str, str] | None = None, **kw: Any) -> subprocess.Popen[str]:
    full_env = worker_env()
    full_env.update(env or {})
    return subprocess.Popen(
        worker_command("train", str(run_dir)),
        stdin=kw.pop("stdin", subprocess.DEVNULL),
        stdout=subprocess.PIPE,
        stderr=kw.pop("stderr", subprocess.PIPE),
        text=True,
        env=full_env,
        **kw,
    )


def run_worker(
    run_dir: Path, *, env: dict[str, str] | None = None, timeout: float = 300
) -> tuple[int, list[dict], str, str]:
    """Run the worker to the end: (exit code, events from stdout, raw stdout, stderr)."""
    proc = worker(run_dir, env=env)
    out, err = proc.communicate(timeout=timeout)
    events = [decode(line) for line in out.splitlines() if line.strip()]
    return proc.returncode, events, out, err


def read_until(proc: subprocess.Popen[str], predicate: Any, seen: list[dict]) -> dict:
    """Read events from a live worker's stdout into `seen` until one matches `predicate`; return it."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if not line.strip():
            continue
        event = decode(line)
        seen.append(event)
        if predicate(event):
            return event
    raise AssertionError(f"the worker ended (exit {proc.wait()}) before the awaited event; saw {kinds(seen)}")


def send(proc: subprocess.Popen[str], cmd: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps({"cmd": cmd}) + "\n")
    proc.stdin.flush()


def finish(proc: subprocess.Popen[str], seen: list[dict], timeout: float = 300) -> int:
    """Read the rest of the worker's events into `seen` and return its exit code."""
    out, _ = proc.communicate(timeout=timeout)
    seen.extend(decode(line) for line in out.splitlines() if line.strip())
    return proc.returncode


def kinds(events: list[dict]) -> list[str]:
    return [e["event"] for e in events]


def of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event"] == kind]


def file_events(run_dir: Path) -> list[dict]:
    return read_events(run_dir / "events.jsonl")
