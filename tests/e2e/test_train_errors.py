"""Bad input and failures: an `error` event with a message and a hint, a non-zero exit, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .train_helpers import make_run, of, run_worker

pytestmark = pytest.mark.e2e


def _assert_error(code: int, events: list[dict], stdout: str, expected_code: int, kind: str) -> dict:
    assert code == expected_code
    assert "Traceback" not in stdout
    errors = of(events, "error")
    assert len(errors) == 1, events
    err = errors[0]
    assert err["kind"] == kind and err["message"] and err["hint"]
    assert of(events, "finished")[-1]["status"] == "failed"
    assert not of(events, "step")
    return err


def test_malformed_config(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"model": "starter", "data": ')
    code, events, stdout, _ = run_worker(run)
    err = _assert_error(code, events, stdout, 2, "bad_config")
    assert "config.json" in err["message"]


def test_config_with_bad_setting(tmp_path: Path, chat_jsonl: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    config = {"model": "starter", "data": str(chat_jsonl), "preset": {"learning_rate": 5}}
    (run / "config.json").write_text(json.dumps(config))
    code, events, stdout, _ = run_worker(run)
    err = _assert_error(code, events, stdout, 2, "bad_setting")
    assert err["where"]["field"] == "learning_rate"


def test_missing_model(tmp_path: Path, chat_jsonl: Path) -> None:
    run = make_run(tmp_path / "run", tmp_path / "no-such-model", chat_jsonl)
    code, events, stdout, _ = run_worker(run)
    _assert_error(code, events, stdout, 2, of(events, "error")[0]["kind"])
    assert "no-such-model" in of(events, "error")[0]["message"]


def test_unusable_dataset(tmp_path: Path, tiny_model_dir: Path) -> None:
    data = tmp_path / "broken.jsonl"
    data.write_text('this is not json\n{"weird": 1}\n')
    run = make_run(tmp_path / "run", tiny_model_dir, data)
    code, events, stdout, _ = run_worker(run)
    err = _assert_error(code, events, stdout, 2, "bad_data")
    assert "broken.jsonl" in err["message"]


def test_qlora_on_cpu_is_unavailable_with_a_way_forward(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, method="qlora")
    code, events, stdout, _ = run_worker(run)
    err = _assert_error(code, events, stdout, 2, "method_unavailable")
    assert "lora" in err["hint"].lower()


def test_out_of_memory_names_smaller_settings(tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path) -> None:
    """MemoryError inside a step (injected: this machine has the memory) -> out_of_memory, exit 1."""
    run = make_run(tmp_path / "run", tiny_model_dir, chat_jsonl, max_steps=5, sample_prompts=0)
    code, events, stdout, _ = run_worker(run, env={"TUNEDESK_FAULT": "oom_at_step:2"})
    assert code == 1 and "Traceback" not in stdout
    err = of(events, "error")[0]
    assert err["kind"] == "out_of_memory"
    assert "batch_size=2" in err["hint"] and "grad_accum=2" in err["hint"]
    assert [e["step"] for e in of(events, "step")] == [1]
    assert of(events, "finished")[-1]["status"] == "failed"
