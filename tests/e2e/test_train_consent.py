"""Pickle weights and remote code stay off unless the user says so, and the run remembers that they did."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tunedesk.core.launch import cli_command, worker_env
from tunedesk.core.runs import load_config

pytestmark = pytest.mark.e2e


@pytest.fixture
def pickle_only_model(tmp_path: Path, tiny_model_dir: Path) -> Path:
    import torch
    from safetensors.torch import load_file

    out = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, out)
    weights = load_file(out / "model.safetensors")
    (out / "model.safetensors").unlink()
    torch.save(weights, out / "pytorch_model.bin")  # the old pickle format transformers still reads
    assert not list(out.glob("*.safetensors")) and list(out.glob("*.bin"))
    return out


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "d.jsonl"
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    path.write_text((json.dumps(row) + "\n") * 12)
    return path


def _train(model: Path, data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = cli_command(
        "train", "--model", str(model), "--data", str(data), "--max-steps", "1", "--set", "batch_size=2",
        "--set", "sample_prompts=0", "--out", str(out), "--json", *extra,
    )  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=worker_env(), timeout=600)


def test_pickle_weights_need_explicit_consent(tmp_path: Path, pickle_only_model: Path, data: Path) -> None:
    refused = _train(pickle_only_model, data, tmp_path / "r1")
    assert refused.returncode == 2
    error = json.loads(refused.stdout)["error"]
    assert "pickle" in (error["message"] + error["hint"]).lower() and "--allow-pickle" in error["hint"]
    assert "Traceback" not in refused.stdout + refused.stderr

    allowed = _train(pickle_only_model, data, tmp_path / "r2", "--allow-pickle")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert load_config(tmp_path / "r2").allow_pickle is True
    assert (tmp_path / "r2" / "adapter" / "adapter_config.json").is_file()
