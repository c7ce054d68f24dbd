"""sharding=fsdp on two CPU processes (gloo, torch's FSDP2): the same steps as plain data parallel with the
same global batch, a one-process adapter file, and a resume from a checkpoint that continues identically."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tunedesk.core.runs import RunLayout

from .test_train_distributed import launch, losses, make_run, rank_lines
from .train_helpers import of, read_until

pytestmark = pytest.mark.e2e


def train(run: Path, log: Path) -> list[dict]:
    proc = launch(run, log)
    events: list[dict] = []
    read_until(proc, lambda e: e["event"] == "finished", events)
    proc.communicate(timeout=300)
    assert proc.returncode == 0, log.read_text()[-4000:]
    return events


def test_fsdp_on_two_processes_matches_data_parallel_and_resumes(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from .train_helpers import write_chat_jsonl

    data = write_chat_jsonl(tmp_path / "tickets.jsonl")
    plain = make_run(tmp_path / "plain", tiny_model_dir, data, 2, 2)
    sharded = make_run(tmp_path / "fsdp", tiny_model_dir, data, 2, 2, sharding="fsdp")
    ddp, fsdp = train(plain, tmp_path / "plain.log"), train(sharded, tmp_path / "fsdp.log")
    assert of(fsdp, "started")[0]["world_size"] == 2
    for log in (tmp_path / "plain.log", tmp_path / "fsdp.log"):  # rank 0 alone wrote the run's report
        assert rank_lines(log, "report: ") == {0: 1}, log.read_text()[-3000:]
    one, two = losses(ddp), losses(fsdp)
    assert sorted(two) == list(range(1, 7))  # past the end of the first epoch: a partial last batch
    for step, loss in two.items():
        assert loss == pytest.approx(one[step], rel=2e-4), step
    val_ddp = {e["step"]: e["val_loss"] for e in of(ddp, "eval")}
    val_fsdp = {e["step"]: e["val_loss"] for e in of(fsdp, "eval")}
    assert val_fsdp == pytest.approx(val_ddp, rel=2e-4)
    measured = [of(events, "finished")[-1]["forgetting"] for events in (fsdp, ddp)]
    for key in ("general_loss_base", "general_loss_tuned"):
        assert measured[0][key] == pytest.approx(measured[1][key], rel=1e-3), key

    # The adapter rank 0 wrote is an ordinary peft adapter: it loads in one process and holds the same weights.
    final = load_file(str(sharded / "adapter" / "adapter_model.safetensors"))
    reference = load_file(str(plain / "adapter" / "adapter_model.safetensors"))
    assert sorted(final) == sorted(reference)
    for key, value in final.items():
        torch.testing.assert_close(value, reference[key], rtol=1e-4, atol=1e-6)
    model = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), sharded / "adapter"
    )
    state = {k: v for k, v in model.state_dict().items() if "lora_" in k}
    assert len(state) == len(final)

    # Resume: drop the last checkpoint and the adapter; both ranks continue from step 4 to the same end.
    layout = RunLayout(sharded)
    shutil.rmtree(layout.checkpoint(6))
    shutil.rmtree(layout.adapter)
    again = train(sharded, tmp_path / "resume.log")
    assert of(again, "started")[0]["resumed_from_step"] == 4
    assert losses(again) == pytest.approx({s: two[s] for s in (5, 6)}, rel=1e-6)
    resumed = load_file(str(sharded / "adapter" / "adapter_model.safetensors"))
    for key, value in resumed.items():
        torch.testing.assert_close(value, final[key])
