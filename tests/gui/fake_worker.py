"""A stand-in worker for the GUI tests: prints canned protocol events the way `python -m tunedesk.worker` does.

    python fake_worker.py MODE [RUN_DIR]

Modes:
    events      a short successful training run (started, steps, evals with samples, checkpoint, finished)
    malformed   events mixed with junk lines, ending with an event that has no trailing newline
    crash       a few steps, a traceback on stderr, then death by SIGKILL (no `finished`)
    fail        an `error` event with a hint and traceback, then exit 1
    slow        events with pauses between them (the reader must stay live)
    echo        answers each {"cmd": ...} line on stdin; "cancel" ends the run as cancelled (exit 3)
    run         like a detached training worker: writes RUN_DIR/events.jsonl and worker.pid, polls
                RUN_DIR/control, prints nothing; cancel (control file or SIGTERM) ends it as cancelled
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from tunedesk.core.protocol import EventWriter, encode, make_event

TOTAL = 6
ERROR_EVENT = dict(
    kind="out_of_memory",
    message="The model does not fit in memory.",
    hint="Lower batch_size or seq_len.",
    traceback="Traceback (most recent call last):\n  ...\nRuntimeError: CUDA out of memory",
)


def _emit(_kind: str, **fields: object) -> None:
    print(encode(make_event(_kind, **fields)), flush=True)


def _step(step: int, emit=_emit) -> None:
    emit(
        "step",
        step=step,
        total_steps=TOTAL,
        loss=round(2.5 / step, 4),
        learning_rate=2e-4 * min(1.0, step / 2),
        tokens_per_second=123.0,
        eta_seconds=(TOTAL - step) * 2.0,
        memory_mb=1500.0,
        peak_memory_mb=1600.0,
        epoch=step / TOTAL,
    )


def events(emit=_emit, delay: float = 0.0) -> None:
    emit("started", run_dir="fake", total_steps=TOTAL, device="cpu", method="lora")
    emit("eval", step=0, val_loss=3.0, best_val_loss=3.0, is_best=True)
    for step in range(1, TOTAL + 1):
        time.sleep(delay)
        _step(step, emit)
        if step % 3 == 0:
            sample = {
                "prompt": "Summarise: the printer jams",
                "reference": "Printer jams.",
                "answer": f"Jam {step}",
            }
            emit(
                "eval",
                step=step,
                val_loss=round(2.0 / step, 4),
                best_val_loss=round(2.0 / step, 4),
                is_best=True,
                samples=[sample],
            )
            emit("checkpoint", step=step, path=f"checkpoints/step-{step}", is_best=True)
    emit("log", level="info", message="saved the adapter")
    emit("finished", status="completed", best_val_loss=round(2.0 / TOTAL, 4), steps=TOTAL)


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "events":
        events()
        return 0
    if mode == "slow":
        events(delay=0.3)
        return 0
    if mode == "malformed":
        print("Loading model... (a stray print)", flush=True)
        _emit("started", run_dir="fake", total_steps=TOTAL)
        print('{"not": "an event"}', flush=True)
        print('{"v": 1, "event": "step", "step"', flush=True)  # torn JSON
        print("\u00e9t\u00e9 \udcff".encode("utf-8", "surrogateescape").decode("latin-1"), flush=True)
        sys.stdout.buffer.write(b"\xff\xfe broken utf-8\n")
        sys.stdout.flush()
        _step(1)
        sys.stdout.write(encode(make_event("finished", status="completed")))  # no newline at exit
        sys.stdout.flush()
        return 0
    if mode == "crash":
        _emit("started", run_dir="fake", total_steps=TOTAL)
        _step(1)
        _step(2)
        print("Traceback (most recent call last):\nRuntimeError: boom", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "fail":
        _emit("started", run_dir="fake", total_steps=TOTAL)
        _emit("error", **ERROR_EVENT)
        _emit("finished", status="failed")
        return 1
    if mode == "echo":
        _emit("started", run_dir="fake", total_steps=TOTAL)
        for line in sys.stdin:
            cmd = json.loads(line)["cmd"]
            _emit("log", level="info", message=f"got {cmd}")
            if cmd == "pause":
                _emit("paused", step=1)
            elif cmd == "resume":
                _emit("resumed", step=1)
            elif cmd == "cancel":
                _emit("finished", status="cancelled")
                return 3
        return 0
    if mode == "run":
        return run(Path(argv[1]), int(argv[2]) if len(argv) > 2 else 1000)
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


def run(root: Path, steps: int) -> int:
    (root / "worker.pid").write_text(json.dumps({"pid": os.getpid(), "host": "test", "started": time.time()}))
    writer = EventWriter(stream=None, log_path=root / "events.jsonl")
    stop = {"cancel": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(cancel=True))
    writer.emit("started", run_dir=str(root), total_steps=steps)
    print("worker log: started", file=sys.stderr, flush=True)
    control = root / "control"
    paused = False
    step = 0
    while step < steps:
        word = ""
        if control.exists():
            word = control.read_text().strip()
            control.unlink()  # read once, like the real worker
        if word == "cancel":
            stop["cancel"] = True
        if stop["cancel"]:
            writer.emit("checkpoint", step=step, path=f"checkpoints/step-{step}", is_best=False)
            writer.emit("finished", status="cancelled", steps=step)
            return 3
        if word == "pause" and not paused:
            paused = True
            writer.emit("paused", step=step)
        elif word == "resume" and paused:
            paused = False
            writer.emit("resumed", step=step)
        if not paused:
            step += 1
            writer.emit("step", step=step, total_steps=steps, loss=1.0 / step, learning_rate=1e-4)
        time.sleep(0.05)
    writer.emit("finished", status="completed", steps=steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
