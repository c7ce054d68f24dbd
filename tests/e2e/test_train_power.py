"""A run on a laptop: it holds a sleep lock through the platform's service, and on a low battery it saves a
checkpoint, pauses, and continues once mains power is back (battery values fed in through the sensor file)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tunedesk.core.runs import RunLayout
from tunedesk.core.training.checkpoints import valid_checkpoints
from tunedesk.core.training.power import BATTERY_ENV

from .train_helpers import finish, make_run, of, read_until, worker

pytestmark = pytest.mark.e2e


def _stand_in_inhibitor(folder: Path, record: Path) -> Path:
    """A systemd-inhibit that records its request and runs its command, as the real one does under logind."""
    folder.mkdir()
    tool = folder / "systemd-inhibit"
    tool.write_text(
        f'#!/bin/sh\necho "$@" > {record}\nwhile [ "${{1#--}}" != "$1" ]; do shift; done\nexec "$@"\n'
    )
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return folder


def test_low_battery_checkpoints_pauses_and_resumes_on_mains(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    sensor = tmp_path / "battery.json"

    def battery(percent: int, plugged: bool) -> None:
        sensor.write_text(json.dumps({"percent": percent, "plugged": plugged}))

    battery(80, False)
    record = tmp_path / "inhibit.args"
    env = {BATTERY_ENV: str(sensor)}
    if sys.platform.startswith("linux"):
        env["PATH"] = f"{_stand_in_inhibitor(tmp_path / 'bin', record)}{os.pathsep}{os.environ['PATH']}"
    run = make_run(
        tmp_path / "run", tiny_model_dir, chat_jsonl, max_steps=8, eval_every=4, sample_prompts=0,
        early_stopping_patience=0, pause_on_battery_below=20,
    )  # fmt: skip
    proc = worker(run, env=env, stdin=subprocess.PIPE)
    seen: list[dict] = []
    read_until(proc, lambda e: e["event"] == "step", seen)
    battery(12, False)
    paused = read_until(proc, lambda e: e["event"] == "paused", seen)
    assert paused["reason"] == "battery"
    at = paused["step"]
    # The steps since the last checkpoint were saved before pausing: a flat battery now loses nothing.
    assert at in [e["step"] for e in of(seen, "checkpoint")]
    assert at in [step for step, _ in valid_checkpoints(RunLayout(run))]
    battery(12, True)
    resumed = read_until(proc, lambda e: e["event"] == "resumed", seen)
    assert resumed["reason"] == "mains_power" and resumed["step"] == at
    pause_at = seen.index(paused)
    assert not of(seen[pause_at : seen.index(resumed)], "step")  # nothing trained while paused
    assert finish(proc, seen) == 0
    assert [e["step"] for e in of(seen, "step")] == list(range(1, 9))
    assert of(seen, "finished")[-1]["status"] == "completed"
    if sys.platform.startswith("linux"):
        args = record.read_text().split()
        assert "--what=sleep:idle" in args and "--mode=block" in args and f"--pid={proc.pid}" in args
