"""The worker's progress protocol: one JSON object per line, versioned. Defined here and nowhere else.

Every line the worker prints on stdout is an *event*::

    {"v": 1, "event": "step", "t": 1732233600.12, "step": 10, "total_steps": 60, ...}

`v` is PROTOCOL_VERSION; a reader accepts events of its own major version and ignores fields it does not
know, so fields may be added without a version bump. Removing or renaming a field bumps the version.
The same events are appended to the run's ``events.jsonl``, so a run's whole history outlives the app.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

PROTOCOL_VERSION = 1

# Optional fields of `step` and `eval` events of a preference (DPO) run, in this order (core/training/dpo.py):
# the mean reward margin (chosen minus rejected implicit reward), the share of pairs whose chosen answer wins
# (on the training batch for `step`, on the held-out pairs for `eval`), and the two mean rewards. A DPO run's
# `loss` / `val_loss` are its DPO loss (a mean per pair), and its `eval` events carry no perplexity.
PREFERENCE_FIELDS = ("reward_margin", "preference_accuracy", "chosen_reward", "rejected_reward")

# Required fields of each event kind (beyond v, event, t). Optional fields are documented in the comments.
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    # + config_digest, trainable_params, total_params, train_examples (task + general examples trained on;
    #   packed sequences when the preset packs), general_examples (the base model's own general answers mixed
    #   in: rows, counted before packing; 0 when nothing is mixed), general_data_fraction (the share of general
    #   rows asked for; 0 for a DPO run, which mixes nothing), general_fraction_used (the share mixed in, in rows:
    #   general / (task + general); lower than asked when the general answers run short),
    #   val_examples (task only), train_tokens, device, method, resumed_from_step, preset, objective (sft | dpo),
    #   system_prompt (the training rows' most common system prompt; null: they had none, so the chat
    #   template's own default is what the model was trained with),
    #   world_size (data-parallel processes; 1 unless launched with several)
    "started": ("run_dir", "total_steps"),
    # + epoch, learning_rate, grad_norm, tokens_per_second, trained_tokens, elapsed, eta_seconds,
    #   memory_mb, peak_memory_mb, + PREFERENCE_FIELDS for DPO
    "step": ("step", "total_steps", "loss"),
    # + perplexity, samples: [{"prompt", "reference", "answer"}], is_best, best_val_loss,
    #   + PREFERENCE_FIELDS for DPO
    "eval": ("step", "val_loss"),
    "checkpoint": ("step", "path", "is_best"),
    "paused": ("step",),
    "resumed": ("step",),
    # status: completed | cancelled | early_stopped | failed; + final_checkpoint, best_checkpoint,
    #   adapter_path, best_val_loss, base_val_loss, steps, elapsed,
    #   forgetting: {general_loss_base, general_loss_tuned, prompts, seconds} or null (nothing measured)
    #   stop_reason: why an early_stopped run stopped, in plain words (core/training/plateau.py), else null
    "finished": ("status",),
    # kind, message, hint, where, traceback (details, one click away in the GUI)
    "error": ("kind", "message"),
    # free text for the log pane: level, message; + stage and fraction (0..1) while a long step of the start
    #   works (stage "general_answers": the base model answering the general prompts, core/training/rehearsal)
    "log": ("message",),
    # a long task's stage (export: merge, convert, quantize, verify): stage, status (running|done|failed),
    # + fraction (0..1), message, detail
    "stage": ("stage", "status"),
}


class ProtocolError(ValueError):
    """A line that is not a valid event of this protocol."""


def make_event(kind: str, /, **fields: Any) -> dict[str, Any]:
    if kind not in EVENT_FIELDS:
        raise ValueError(f"unknown event kind {kind!r}")
    missing = [f for f in EVENT_FIELDS[kind] if f not in fields]
    if missing:
        raise ValueError(f"event {kind!r} is missing {missing}")
    return {"v": PROTOCOL_VERSION, "event": kind, "t": round(time.time(), 3), **fields}


def encode(event: Mapping[str, Any]) -> str:
    """One event as one line (no embedded newlines: json.dumps escapes them)."""
    return json.dumps(_finite(event), ensure_ascii=False, separators=(",", ":"), default=_jsonable)


def decode(line: str | bytes) -> dict[str, Any]:
    """Parse one line into an event, or raise ProtocolError saying why not."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    line = line.strip()
    if not line:
        raise ProtocolError("empty line")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc.msg}") from None
    if not isinstance(obj, dict) or "event" not in obj or "v" not in obj:
        raise ProtocolError("not an event object (needs 'v' and 'event')")
    if obj["v"] != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {obj['v']!r}, expected {PROTOCOL_VERSION}")
    kind = obj["event"]
    if kind in EVENT_FIELDS:
        missing = [f for f in EVENT_FIELDS[kind] if f not in obj]
        if missing:
            raise ProtocolError(f"event {kind!r} is missing {missing}")
    return obj


def read_events(path: Any) -> list[dict[str, Any]]:
    """All valid events of an events.jsonl file; a torn last line (a crash mid-write) is skipped."""
    events: list[dict[str, Any]] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    events.append(decode(line))
                except ProtocolError:
                    continue
    except FileNotFoundError:
        pass
    return events


def _finite(obj: Any) -> Any:
    """NaN/inf (a diverged loss) become null: JSON has no such numbers and readers would choke."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


@dataclass
class EventWriter:
    """Writes events to a stream (the worker's stdout) and appends them to events.jsonl.

    Each line is flushed at once: the GUI reads it live, and a kill -9 loses at most the line in flight.
    """

    stream: IO[str] | None = None
    log_path: Any = None

    def emit(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        event = make_event(kind, **fields)
        line = encode(event) + "\n"
        if self.log_path is not None:
            try:
                with open(self.log_path, "a", encoding="utf-8") as fh:
                    fh.write(line)
                    fh.flush()
            except OSError as exc:
                # A full, read-only or deleted run folder: the parent still gets the event (and the error
                # that follows) on the stream; the writer that hits the disk next raises it clearly.
                logging.getLogger("tunedesk.protocol").debug(
                    "events not appended to %s: %s", self.log_path, exc
                )
        if self.stream is not None:
            self.stream.write(line)
            self.stream.flush()
        return event
