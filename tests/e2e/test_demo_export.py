"""End to end on the real starter model: ONE short training run (`tunedesk demo`), then every export format,
verification, chat, and the point of it all: the tuned GGUF answers held-out tickets in the trained format
where the base model does not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tunedesk.cli.demo_cmd import answer_rows, held_out_rows
from tunedesk.core.chat.llama_load import extra_buffers_allowed
from tunedesk.core.data.sample import is_sample_format
from tunedesk.core.launch import cli_command, worker_env

pytestmark = pytest.mark.e2e


def _cli(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, env=worker_env(), timeout=timeout
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("demo") / "run"
    proc = _cli("demo", "--json", "--out", str(out), timeout=2400)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def q4(demo: dict) -> dict:
    proc = _cli("export", demo["run_dir"], "--quant", "q4_k_m", "--json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_demo_writes_everything_and_verifies(demo: dict) -> None:
    run = Path(demo["run_dir"])
    assert demo["training"]["status"] in ("completed", "early_stopped")
    assert (run / "adapter" / "adapter_config.json").is_file()
    gguf = Path(demo["gguf_path"])
    assert gguf.is_file() and gguf.name.endswith("-q8_0.gguf")
    assert gguf.read_bytes()[:4] == b"GGUF"
    v = demo["verification"]
    assert (
        v["passed"]
        and v["chat_template"]
        and v["stops_at_end_of_turn"]
        and v["end_of_turn_token"] == "<|im_end|>"
    )
    assert v["perplexity_gguf"] <= v["perplexity_merged"] * 1.15
    assert json.loads((run / "export" / "verification.json").read_text())["passed"]
    modelfile = Path(demo["modelfile_path"]).read_text()
    assert f"FROM ./{gguf.name}" in modelfile and "<|im_start|>assistant" in modelfile
    card = (Path(demo["merged_path"]) / "README.md").read_text()
    assert "starter" in card and "Best validation loss" in card
    assert is_sample_format(demo["tuned_answer"]), demo["tuned_answer"]
    assert not is_sample_format(demo["base_answer"])
    # Like with like: the base it was compared with is the starter at the tuned file's quantization.
    base = Path(demo["base_gguf_path"])
    assert (
        base.is_file() and base.name.startswith("SmolLM2-135M-Instruct") and base.name.endswith("-q8_0.gguf")
    )
    # The sample data's system prompt, not SmolLM's own, is the Modelfile's.
    assert 'SYSTEM """You triage customer support tickets' in modelfile


def test_q4_k_m_export_reuses_the_merge_and_verifies(demo: dict, q4: dict) -> None:
    assert q4["status"] == "completed" and q4["verification"]["passed"]
    q4_file, q8_file = Path(q4["gguf_path"]), Path(demo["gguf_path"])
    assert q4_file.is_file() and q4_file.stat().st_size < q8_file.stat().st_size
    events = [
        json.loads(x) for x in (Path(demo["run_dir"]) / "export" / "events.jsonl").read_text().splitlines()
    ]
    merges = [e for e in events if e["event"] == "stage" and e["stage"] == "merge" and e["status"] == "done"]
    assert "reused" in merges[-1]["message"]
    assert not list(q4_file.parent.glob("*.partial")) and not list(q4_file.parent.glob("*.failed"))


def test_tuned_ggufs_answer_in_the_trained_format_and_the_base_does_not(
    demo: dict, q4: dict, starter_gguf: Path
) -> None:
    rows = held_out_rows(Path(demo["run_dir"]), 8)
    assert len(rows) == 8
    scores = {
        name: sum(is_sample_format(a) for a in answer_rows(path, rows))
        for name, path in (("q8_0", demo["gguf_path"]), ("q4_k_m", q4["gguf_path"]), ("base", starter_gguf))
    }
    # 4-bit costs a 135M model more than 8-bit does; both must still clearly beat the base.
    assert scores["q8_0"] >= 6 and scores["q4_k_m"] >= 5 and scores["base"] <= 1, scores


def test_chat_cli_one_answer(demo: dict) -> None:
    row = held_out_rows(Path(demo["run_dir"]), 1)[0]
    system = next(m["content"] for m in row if m["role"] == "system")
    proc = _cli(
        "chat",
        demo["gguf_path"],
        "--system",
        system,
        "--prompt",
        row[1]["content"],
        "--temperature",
        "0",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert is_sample_format(out["answer"]), out
    assert out["tokens"] > 5 and out["ttft"] > 0 and out["tokens_per_second"] > 0


OUTSIDE_USER = """
import json, sys
from llama_cpp import Llama
kwargs = {} if sys.argv[2] == "1" else {"n_batch": 1, "n_ubatch": 1}
llm = Llama(model_path=sys.argv[1], n_ctx=1024, verbose=False, **kwargs)
rows = json.loads(sys.argv[3])
out = [llm.create_chat_completion(messages=r[:-1], temperature=0, max_tokens=64)["choices"][0] for r in rows]
print(json.dumps([[c["message"]["content"], c["finish_reason"]] for c in out]))
"""


def test_an_outside_llama_cpp_user_gets_the_trained_behaviour(demo: dict) -> None:
    # Plain llama-cpp-python with nothing from TuneDesk: the template and stop token come from the file alone.
    # (On CPUs whose AMX repacking crashes llama.cpp, see core/chat/llama_load.py, one-token batches avoid it.)
    rows = held_out_rows(Path(demo["run_dir"]), 3)
    flag = "1" if extra_buffers_allowed() else "0"
    proc = subprocess.run(
        [sys.executable, "-c", OUTSIDE_USER, demo["gguf_path"], flag, json.dumps(rows)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    answers = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(reason == "stop" for _a, reason in answers), answers
    assert sum(is_sample_format(a) for a, _r in answers) >= 2, answers
