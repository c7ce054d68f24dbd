"""A whole export of a tiny model through the real export worker: merge, f16 GGUF, verification, Modelfile."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from safetensors.torch import load_file
from tests.unit.test_export_helpers import make_run

from tunedesk.core.chat import ChatEngine
from tunedesk.core.chat.companion import read_companion
from tunedesk.core.export.same_quant_base import same_quant_base, same_quant_base_path
from tunedesk.core.export.verify import verify_gguf
from tunedesk.core.launch import worker_command, worker_env
from tunedesk.core.models.info import model_info
from tunedesk.core.models.source import resolve_model
from tunedesk.core.protocol import decode


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict:
    layout = make_run(tmp_path_factory.mktemp("export") / "run", tiny_model_dir)
    proc = subprocess.run(
        worker_command("export", str(layout.root), "--quant", "f16", "--prompts", "3"),
        capture_output=True,
        text=True,
        env=worker_env(),
        timeout=900,
    )
    events = [decode(line) for line in proc.stdout.splitlines() if line.strip()]
    return {"layout": layout, "rc": proc.returncode, "events": events, "stderr": proc.stderr}


def test_stages_in_order_then_finished(exported: dict) -> None:
    assert exported["rc"] == 0, exported["stderr"][-3000:]
    stages = [
        (e["stage"], e["status"])
        for e in exported["events"]
        if e["event"] == "stage" and e["status"] != "running"
    ]
    assert stages == [
        ("merge", "done"), ("convert", "done"), ("quantize", "done"), ("verify", "done"), ("base", "done"),
    ]  # fmt: skip
    finished = exported["events"][-1]
    assert finished["event"] == "finished" and finished["status"] == "completed"
    assert finished["verification"]["passed"] and finished["verification"]["chat_template"]
    assert Path(finished["gguf_path"]).is_file() and Path(finished["modelfile_path"]).is_file()


def test_merged_folder_is_a_complete_hf_model(exported: dict, tiny_model_dir: Path) -> None:
    merged = exported["layout"].export / "merged"
    for name in ("model.safetensors", "config.json", "tokenizer.json", "generation_config.json", "README.md"):
        assert (merged / name).is_file(), name
    base = load_file(tiny_model_dir / "model.safetensors")
    new = load_file(merged / "model.safetensors")
    key = "model.layers.0.self_attn.q_proj.weight"
    assert not (base[key] == new[key]).all()  # the adapter was merged in
    gen = json.loads((merged / "generation_config.json").read_text())
    tok = json.loads((merged / "tokenizer.json").read_text())
    im_end = next(t["id"] for t in tok["added_tokens"] if t["content"] == "<|im_end|>")
    assert gen["eos_token_id"] == im_end
    card = (merged / "README.md").read_text()
    assert str(tiny_model_dir) in card and "sha256" in card
    assert not list(exported["layout"].export.glob("*.partial")) and not list(
        exported["layout"].export.glob(".merged*")
    )


def test_gguf_keeps_template_and_end_of_turn(exported: dict) -> None:
    finished = exported["events"][-1]
    engine = ChatEngine(finished["gguf_path"], n_ctx=256)
    assert engine.chat_template == (exported["layout"].export / "merged" / "chat_template.jinja").read_text()
    assert engine.llm.detokenize([engine.llm.token_eos()], special=True) == b"<|im_end|>"
    report = json.loads((exported["layout"].export / "verification.json").read_text())
    assert report["passed"] and report["summary"]["prompts"] == 3
    modelfile = Path(finished["modelfile_path"]).read_text()
    assert (
        f"FROM ./{Path(finished['gguf_path']).name}" in modelfile
        and 'PARAMETER stop "<|im_end|>"' in modelfile
    )


def test_verification_rejects_a_different_model(exported: dict, starter_gguf: Path, tmp_path: Path) -> None:
    # The starter GGUF has the same tokenizer and template but other weights: the teacher-forced measures
    # give it away.
    layout = exported["layout"]
    report = verify_gguf(
        starter_gguf,
        layout.export / "merged",
        layout.data / "val.jsonl",
        "q8_0",
        cache=tmp_path,
        n_prompts=2,
        max_tokens=16,
    )
    assert not report.passed
    assert any("KL divergence" in f for f in report.failures)
    assert report.summary["tokenizer_match"] == 1.0 and report.summary["vocab_match"]
    assert report.summary["verdict"] == report.failures[0]


SAMPLE_SYSTEM = "You triage customer support tickets for Northwind Office Supply."


def test_the_training_system_prompt_reaches_the_modelfile_and_chat(exported: dict) -> None:
    finished = exported["events"][-1]
    assert finished["system_prompt"] == SAMPLE_SYSTEM
    modelfile = Path(finished["modelfile_path"]).read_text()
    # The run's prompt, not the base model's own ("You are a helpful AI assistant named SmolLM...").
    assert f'SYSTEM """{SAMPLE_SYSTEM}"""' in modelfile and "SmolLM" not in modelfile
    companion = read_companion(finished["gguf_path"])
    assert companion is not None and companion.system_prompt == SAMPLE_SYSTEM
    assert companion.run_dir == str(exported["layout"].root) and companion.quant == "f16"
    assert companion.checkpoint == finished["checkpoint"] in ("best", "final")  # what chat feedback continues
    engine = ChatEngine(finished["gguf_path"], n_ctx=256)
    assert engine.system_prompt == engine.trained_system_prompt == SAMPLE_SYSTEM
    assert engine.messages("hi")[0] == {"role": "system", "content": SAMPLE_SYSTEM}
    assert ChatEngine(finished["gguf_path"], n_ctx=256, system_prompt="").system_prompt is None


def test_the_base_is_written_at_the_same_quantization_once(exported: dict, tiny_model_dir: Path) -> None:
    finished = exported["events"][-1]
    base = Path(finished["base_gguf_path"])
    assert read_companion(finished["gguf_path"]).base_gguf == str(base)
    assert base == same_quant_base_path(tiny_model_dir, "f16")
    assert (
        model_info(resolve_model(str(base))).dtype == model_info(resolve_model(finished["gguf_path"])).dtype
    )
    made_at = base.stat().st_mtime_ns
    assert same_quant_base(tiny_model_dir, "f16", log=lambda _m: None) == (base, False)  # cached
    assert base.stat().st_mtime_ns == made_at
