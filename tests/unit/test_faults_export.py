"""Export and model-file faults: too little memory for the fp32 merge (refused before it starts), a disk that
fills up during the export, model files cut short."""

from __future__ import annotations

import errno
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.unit.test_export_helpers import make_run

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.memory_check import merge_bytes
from tunedesk.core.export.pipeline import plan_export
from tunedesk.core.launch import worker_command, worker_env
from tunedesk.core.models.cache import materialize
from tunedesk.core.models.integrity import check_model_folder
from tunedesk.core.models.source import resolve_model
from tunedesk.core.protocol import decode
from tunedesk.core.runs import file_sha256
from tunedesk.core.storage_errors import storage_error_for


def test_a_7b_merge_needs_about_28_gb() -> None:
    assert 28e9 <= merge_bytes(7_000_000_000) <= 35e9


def test_merge_without_enough_memory_is_refused_before_it_starts(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    layout = make_run(tmp_path / "run", tiny_model_dir)
    with pytest.raises(TuneDeskError) as err:
        plan_export(layout.root, quant="q8_0", free_space=lambda _p: 10**12, available=lambda: 1_000_000)
    assert err.value.kind == "out_of_memory"
    assert "merge" in err.value.message and "Nothing was started" in err.value.message and err.value.hint
    assert err.value.where["available_bytes"] == 1_000_000
    assert not layout.export.exists()
    plan = plan_export(layout.root, quant="q8_0", free_space=lambda _p: 10**12, available=lambda: 10**12)
    assert plan.quant == "q8_0"


def test_disk_full_during_the_export(tmp_path: Path, tiny_model_dir: Path) -> None:
    """ENOSPC raised below the merged model's save (as a full disk does): a clear error, nothing half-written
    left under a final name, the adapter untouched."""
    layout = make_run(tmp_path / "run", tiny_model_dir)
    before = file_sha256(layout.adapter)
    env = {**worker_env(), "TUNEDESK_FAULT": "disk_full_in_export"}
    proc = subprocess.run(
        worker_command("export", str(layout.root), "--quant", "f16"),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    events = [decode(line) for line in proc.stdout.splitlines() if line.strip()]
    assert proc.returncode == 1, proc.stderr[-3000:]
    (error,) = [e for e in events if e["event"] == "error"]
    assert error["kind"] == "disk_full" and "disk is full" in error["message"] and error["hint"]
    assert not error.get("traceback")
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "failed"
    leftovers = [p.name for p in layout.export.iterdir() if p.name not in ("events.jsonl", ".work")]
    assert leftovers == []  # no merged/, no temp folder, no GGUF
    assert file_sha256(layout.adapter) == before


def test_library_write_errors_are_recognised_as_a_full_disk(tmp_path: Path) -> None:
    class SafetensorError(Exception):  # what safetensors raises, text and all
        pass

    err = storage_error_for(
        SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)"),
        tmp_path,
        "saving",
        "",
    )
    assert err is not None and err.kind == "disk_full"
    assert storage_error_for(OSError(errno.EROFS, "ro"), tmp_path, "saving", "").kind == "folder_not_writable"
    # Not a storage problem (the folder takes a probe write): left for the caller to report as a bug.
    assert storage_error_for(RuntimeError("shape mismatch"), tmp_path, "saving", "") is None
    assert storage_error_for(RuntimeError("x"), tmp_path / "gone", "saving", "").kind == "folder_missing"


def test_safetensors_cut_short_is_named(tmp_path: Path, tiny_model_dir: Path) -> None:
    check_model_folder(tiny_model_dir)  # a whole model passes
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    weights = model / "model.safetensors"
    with open(weights, "r+b") as fh:
        fh.truncate(weights.stat().st_size - 1)
    with pytest.raises(TuneDeskError) as err:
        materialize(resolve_model(str(model)))
    assert err.value.kind == "bad_model" and "model.safetensors" in err.value.message
    assert err.value.where["file"] == str(weights)
    weights.write_bytes(b"\xff" * 16)  # a header length longer than the file
    with pytest.raises(TuneDeskError, match="shorter than its own header"):
        check_model_folder(model)


def test_gguf_cut_short_is_named(tmp_path: Path, starter_gguf: Path) -> None:
    cut = tmp_path / "starter.gguf"
    with open(starter_gguf, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(starter_gguf.stat().st_size // 2))
    with pytest.raises(TuneDeskError) as err:
        materialize(resolve_model(str(cut)))  # what training (and export) from that file runs into
    assert err.value.kind == "bad_model" and "starter.gguf" in err.value.message and err.value.hint
    assert "damaged" in err.value.message and err.value.where["file"] == str(cut)
