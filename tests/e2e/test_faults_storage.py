"""A full disk, a read-only or vanished run folder, running out of memory, a damaged checkpoint, a model file cut
short: each ends in a clear error event (never a traceback), a consistent run folder, and the previous good
checkpoint intact and resumable."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tunedesk.core.runs import RunLayout, summarize_run
from tunedesk.core.training.checkpoints import valid_checkpoints

from .train_helpers import finish, make_run, of, read_until, run_worker, send, worker

pytestmark = pytest.mark.e2e

SETTINGS = {
    "max_steps": 8,
    "eval_every": 2,
    "sample_prompts": 0,
    "keep_checkpoints": 10,
    "early_stopping_patience": 0,
}


def _complete(run: Path) -> list[int]:
    return [step for step, _ in valid_checkpoints(RunLayout(run))]


def _clear_failure(code: int, events: list[dict], stdout: str, kind: str) -> dict:
    assert code == 1 and "Traceback" not in stdout
    (err,) = of(events, "error")
    assert err["kind"] == kind and err["message"] and err["hint"], err
    assert err.get("traceback") is None
    assert of(events, "finished")[-1]["status"] == "failed"
    return err


def _no_torn_folders(run: Path) -> None:
    layout = RunLayout(run)
    assert not list(layout.checkpoints.glob(".step-*")), list(layout.checkpoints.iterdir())


def _paused_after_first_checkpoint(run: Path) -> tuple[subprocess.Popen[str], list[dict]]:
    """A worker on `run`, paused between steps right after checkpoint 2: the moment to pull the floor away."""
    proc = worker(run, stdin=subprocess.PIPE)
    seen: list[dict] = []
    read_until(proc, lambda e: e["event"] == "checkpoint" and e["step"] == 2, seen)
    send(proc, "pause")
    read_until(proc, lambda e: e["event"] == "paused", seen)
    return proc, seen


def test_full_disk_readonly_folder_and_oom_each_stop_cleanly_and_resume(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    """Faults injected below the writes (OSError ENOSPC / EROFS, as the disk raises them) and in a step."""
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **SETTINGS)

    code, events, out, _ = run_worker(run, env={"TUNEDESK_FAULT": "disk_full_in_checkpoint_save:4"})
    err = _clear_failure(code, events, out, "disk_full")
    assert "disk is full" in err["message"] and "step-2" in err["message"]
    assert _complete(run) == [2] and not RunLayout(run).checkpoint(4).exists()
    _no_torn_folders(run)  # the space of the torn save is given back at once
    summary = summarize_run(run)
    assert summary.status == "failed" and summary.resumable

    code, events, out, _ = run_worker(run, env={"TUNEDESK_FAULT": "readonly_in_checkpoint_save:6"})
    err = _clear_failure(code, events, out, "folder_not_writable")
    assert of(events, "started")[0]["resumed_from_step"] == 2 and "step-4" in err["message"]
    assert _complete(run) == [2, 4]
    _no_torn_folders(run)

    code, events, out, _ = run_worker(run, env={"TUNEDESK_FAULT": "torch_oom_at_step:7"})
    err = _clear_failure(code, events, out, "out_of_memory")
    assert "batch_size=2" in err["hint"] and "ran out of memory" in err["message"]
    assert [e["step"] for e in of(events, "step")] == [5, 6]
    assert _complete(run) == [2, 4, 6]

    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    assert of(events, "started")[0]["resumed_from_step"] == 6
    assert _complete(run) == [2, 4, 6, 8] and summarize_run(run).status == "completed"


def test_run_folder_moved_away_mid_run(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    """The folder vanishes while the worker is paused between steps: it stops, and never recreates it."""
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **SETTINGS)
    proc, seen = _paused_after_first_checkpoint(run)
    moved = tmp_path / "moved"
    os.replace(run, moved)
    send(proc, "resume")
    assert finish(proc, seen) == 1
    (err,) = of(seen, "error")
    assert err["kind"] == "folder_missing" and str(run) in err["message"] and err["hint"]
    assert of(seen, "finished")[-1]["status"] == "failed"
    assert not run.exists()  # not half-recreated by the next save
    assert _complete(moved) == [2]  # the good state went with the folder


def test_damaged_checkpoint_is_set_aside_and_the_previous_one_used(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, **SETTINGS)
    code, _, _, _ = run_worker(run, env={"TUNEDESK_FAULT": "crash_after_step:5"})
    assert code == 137 and _complete(run) == [2, 4]
    # Complete by its marker, damaged afterwards (a disk error, a sync tool): the weights are garbage.
    weights = RunLayout(run).checkpoint(4) / "adapter_model.safetensors"
    weights.write_bytes(b"\x00garbage" * 64)

    code, events, _, stderr = run_worker(run)
    assert code == 0, stderr[-3000:]
    assert of(events, "started")[0]["resumed_from_step"] == 2
    assert any("damaged" in e["message"] and "step-4" in e["message"] for e in of(events, "log"))
    layout = RunLayout(run)
    assert (layout.checkpoints / "step-4.corrupt" / "adapter_model.safetensors").is_file()  # kept to inspect
    assert _complete(run) == [2, 4, 6, 8]  # step 4 trained again, from step 2


def test_model_file_cut_short_is_reported(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    weights = model / "model.safetensors"
    with open(weights, "r+b") as fh:
        fh.truncate(weights.stat().st_size * 2 // 3)
    run = make_run(tmp_path / "run", model, chat_jsonl, **SETTINGS)
    code, events, out, _ = run_worker(run)
    assert code == 2 and "Traceback" not in out
    (err,) = of(events, "error")
    assert (
        err["kind"] == "bad_model" and "model.safetensors" in err["message"] and "damaged" in err["message"]
    )
    assert err["where"]["file"] == str(weights)
    assert not of(events, "step")


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {proc.stderr.strip() or proc.returncode}")


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_really_full_disk(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    """The same on a real 16 MB filesystem filled up mid-run (where mounting one is allowed)."""
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "16m")
    try:
        run = make_run(disk / "run", tiny_model_dir, chat_jsonl, **SETTINGS)
        proc, seen = _paused_after_first_checkpoint(run)
        filler = _fill(disk)
        send(proc, "resume")
        assert finish(proc, seen) == 1
        (err,) = of(seen, "error")
        assert err["kind"] == "disk_full" and "step-2" in err["message"]
        assert _complete(run) == [2]
        _no_torn_folders(run)

        filler.unlink()
        code, events, _, stderr = run_worker(run)
        assert code == 0, stderr[-3000:]
        assert of(events, "started")[0]["resumed_from_step"] == 2
        assert _complete(run)[-1] == 8
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
