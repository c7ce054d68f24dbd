"""`tunedesk doctor` as a user runs it: real subprocesses, the real starter model and sample data."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tunedesk.core.launch import cli_command, worker_env
from tunedesk.core.paths import sample_dataset

Doctor = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def doctor(tmp_path_factory: pytest.TempPathFactory) -> Doctor:
    """Runs `tunedesk doctor ARGS`; the calls share one home, so only the first pays for the hardware probe."""
    home = tmp_path_factory.mktemp("doctor-home")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**worker_env(), "TUNEDESK_HOME": str(home)}
        return subprocess.run(
            cli_command("doctor", *args), capture_output=True, text=True, env=env, timeout=300
        )

    return run


@pytest.fixture(scope="module")
def chat_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if sample_dataset().is_file():
        return sample_dataset()
    path = tmp_path_factory.mktemp("data") / "chat.jsonl"  # the sample is not there yet: a small chat file
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"Summarise ticket {i}"},
                {"role": "assistant", "content": f"T{i}: ok"},
            ]
        }
        for i in range(60)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_doctor_json_without_a_model(doctor: Doctor) -> None:
    proc = doctor("--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"hardware", "vendor", "model", "data", "selection", "duration"}
    hw = out["hardware"]
    assert hw["best_device"] in ("cpu", "cuda", "mps") and hw["summary"] and hw["ram_total_mb"] > 0
    assert out["vendor"]["starter"] and out["vendor"]["converter"]  # installed by `tunedesk setup`
    assert out["model"] is None and out["selection"] is None and out["duration"] is None


def test_doctor_json_with_starter_and_data(doctor: Doctor, chat_data: Path) -> None:
    proc = doctor("--model", "starter", "--data", str(chat_data), "--set", "lora_r=8", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    info = out["model"]["info"]
    assert (
        info["num_layers"] == 30
        and info["exportable"] is True
        and out["model"]["source"]["kind"] == "starter"
    )
    stats = out["data"]["stats"]
    assert stats["n_examples"] > 0 and 0 < stats["p95_tokens"] <= stats["max_tokens"]
    sel = out["selection"]
    assert sel["device"] == out["hardware"]["best_device"] and sel["preset"]["method"] == "lora"
    assert sel["preset"]["lora_r"] == 8 and sel["overridden"] == ["lora_r"]
    assert sel["preset"]["seq_len"] >= stats["max_tokens"] or sel["preset"]["seq_len"] >= stats["p95_tokens"]
    assert sel["estimate"]["fits"] and sel["estimate"]["verdict"].startswith("fits with")
    assert len(sel["reasons"]) >= 5


def test_doctor_estimates_memory_per_process(doctor: Doctor, chat_data: Path) -> None:
    """With --processes the estimate is one process's: the same for plain data-parallel (each holds a whole
    copy), less with sharding=fsdp (the weights, adapter and optimizer split among them)."""

    def total(*args: str) -> float:
        proc = doctor("--model", "starter", "--data", str(chat_data), "--set", "method=lora", *args, "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["selection"]["estimate"]["total_mb"]

    one, fsdp_one = total(), total("--set", "sharding=fsdp")
    assert total("--processes", "2") == pytest.approx(one, rel=0.05)
    assert total("--processes", "4", "--set", "sharding=fsdp") < fsdp_one


def test_doctor_chooses_dpo_for_preference_pairs(doctor: Doctor, chat_data: Path) -> None:
    """What the Train page asks: for a pairs file the advice is the dpo preset, and it says why."""
    from tunedesk.core.paths import resources_dir

    pairs = resources_dir() / "sample_data" / "support_preferences.jsonl"
    out = json.loads(doctor("--model", "starter", "--data", str(pairs), "--json").stdout)
    assert out["data"]["stats"]["preference"] is True
    sel = out["selection"]
    assert (sel["preset"]["objective"], sel["preset"]["name"]) == ("dpo", "dpo")
    assert any(r.startswith("Preference tuning (DPO)") for r in sel["reasons"])
    chat = json.loads(doctor("--model", "starter", "--data", str(chat_data), "--json").stdout)
    assert chat["selection"]["preset"]["objective"] == "sft"


def test_doctor_text_for_a_person(doctor: Doctor, chat_data: Path) -> None:
    proc = doctor("--model", "starter", "--data", str(chat_data))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for piece in (
        "Hardware",
        "Memory",
        "Tools",
        "Model: SmolLM2-135M-Instruct",
        "Would train with: lora-",
        "fits with",
    ):
        assert piece in text, piece
    assert "Traceback" not in proc.stderr


def test_doctor_unknown_model_is_a_readable_error(
    doctor: Doctor,
) -> None:
    proc = doctor("--model", "someone/not-here")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (
        "Model 'someone/not-here'" in proc.stderr
        and "What to do:" in proc.stderr
        and "starter" in proc.stderr
    )
    err = json.loads(doctor("--model", "./missing.gguf", "--json").stdout)["error"]
    assert err["kind"] == "missing_model" and "does not exist" in err["message"]


def test_doctor_qlora_on_this_machine_names_a_workable_preset(
    doctor: Doctor,
) -> None:
    proc = doctor("--model", "starter", "--preset", "qlora", "--json")
    if proc.returncode == 0 and json.loads(proc.stdout)["hardware"]["bnb_4bit"]:
        pytest.skip("this machine can run QLoRA")
    err = json.loads(proc.stdout)["error"]
    assert proc.returncode == 2 and err["kind"] == "method_unavailable" and "--preset lora-" in err["hint"]
