"""How the trainer reports progress: a callback interface, like mlx-lm's TrainingCallback.

The trainer never prints. It calls ``on_start``, ``on_step``, ``on_eval``, ``on_checkpoint``, ``on_pause``,
``on_resume``, ``on_finish`` and ``on_error`` with plain dicts whose keys are the protocol's event fields
(core/protocol.py). `EventCallback` writes them as JSON lines (the worker's stdout and events.jsonl); the CLI's
console line is another callback over the same dicts, fed by the events it reads back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from tunedesk.core.protocol import EventWriter

log = logging.getLogger("tunedesk.training")
# LogCallback's lines repeat what the events already say: the worker keeps them out of `log` events.
progress_log = logging.getLogger("tunedesk.training.progress")


class TrainingCallback:
    """Override what you need; every hook receives the event's fields as a dict."""

    def on_start(self, info: dict[str, Any]) -> None: ...

    def on_step(self, info: dict[str, Any]) -> None: ...

    def on_eval(self, info: dict[str, Any]) -> None: ...

    def on_checkpoint(self, info: dict[str, Any]) -> None: ...

    def on_pause(self, info: dict[str, Any]) -> None: ...

    def on_resume(self, info: dict[str, Any]) -> None: ...

    def on_finish(self, info: dict[str, Any]) -> None: ...

    def on_error(self, info: dict[str, Any]) -> None: ...

    def on_log(self, info: dict[str, Any]) -> None: ...


class CallbackList(TrainingCallback):
    """Fans each hook out to several callbacks; one failing callback is logged, not fatal to training.

    Its hooks are defined below from EVENT_HOOKS, each one calling `_call`.
    """

    def __init__(self, callbacks: Iterable[TrainingCallback] = ()) -> None:
        self.callbacks = list(callbacks)

    def _call(self, hook: str, info: dict[str, Any]) -> None:
        for cb in self.callbacks:
            try:
                getattr(cb, hook)(info)
            except BrokenPipeError:
                # The parent went away (GUI closed): keep training; events.jsonl still records everything.
                log.warning("the parent process stopped reading events")
            except Exception:
                log.exception("callback %s.%s failed", type(cb).__name__, hook)


class EventCallback(TrainingCallback):
    """Writes every hook as a protocol event through an EventWriter (stdout + events.jsonl).

    Its hooks are defined below from EVENT_HOOKS: `on_start` writes a "started" event, and so on.
    """

    def __init__(self, writer: EventWriter) -> None:
        self.writer = writer


class LogCallback(TrainingCallback):
    """Mirrors the milestones into the python log (worker.log), so the log alone tells the story."""

    def on_start(self, info: dict[str, Any]) -> None:
        progress_log.info(
            "training %s with %s on %s: %s steps, %s train / %s val examples, %s of %s parameters trainable",
            info.get("preset"),
            info.get("method"),
            info.get("device"),
            info.get("total_steps"),
            info.get("train_examples"),
            info.get("val_examples"),
            info.get("trainable_params"),
            info.get("total_params"),
        )

    def on_eval(self, info: dict[str, Any]) -> None:
        loss = info.get("val_loss")
        progress_log.info(
            "step %s: validation loss %s%s",
            info["step"],
            "none (no labelled tokens)" if loss is None else f"{loss:.4f}",
            " (best)" if info.get("is_best") else "",
        )

    def on_checkpoint(self, info: dict[str, Any]) -> None:
        progress_log.info("checkpoint saved: %s", info["path"])

    def on_finish(self, info: dict[str, Any]) -> None:
        progress_log.info("finished: %s after %s steps", info["status"], info.get("steps"))
        if info.get("stop_reason"):
            progress_log.info("%s", info["stop_reason"])


EVENT_HOOKS = {
    "started": "on_start",
    "step": "on_step",
    "eval": "on_eval",
    "checkpoint": "on_checkpoint",
    "paused": "on_pause",
    "resumed": "on_resume",
    "finished": "on_finish",
    "error": "on_error",
    "log": "on_log",
}


def _fan_out(hook: str) -> Callable[[CallbackList, dict[str, Any]], None]:
    def call_every_callback(self: CallbackList, info: dict[str, Any]) -> None:
        self._call(hook, info)

    return call_every_callback


def _emit(event: str) -> Callable[[EventCallback, dict[str, Any]], None]:
    def write_event(self: EventCallback, info: dict[str, Any]) -> None:
        self.writer.emit(event, **info)

    return write_event


# Every hook of CallbackList calls that hook of each of its callbacks; every hook of EventCallback writes the
# event it stands for. Defined from EVENT_HOOKS so that a new event needs one line there.
for _event, _hook in EVENT_HOOKS.items():
    setattr(CallbackList, _hook, _fan_out(_hook))
    setattr(EventCallback, _hook, _emit(_event))


def dispatch_event(callback: TrainingCallback, event: dict[str, Any]) -> None:
    """Feed an event read back from a worker to the callback hook that produced it (the reverse of
    EventCallback), so a parent process reuses the same callbacks on the events it receives."""
    hook = EVENT_HOOKS.get(event.get("event", ""))
    if hook:
        getattr(callback, hook)({k: v for k, v in event.items() if k not in ("v", "event", "t")})
