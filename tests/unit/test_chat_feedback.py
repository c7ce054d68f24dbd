"""Chat feedback becomes a preference dataset the data pipeline reads, and a DPO run on top of the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tunedesk.core.chat.feedback import FeedbackFile, feedback_path
from tunedesk.core.data import load_dataset
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.runs import RunConfig, create_run, load_config
from tunedesk.core.training.feedback_run import (
    MIN_FEEDBACK_PAIRS,
    create_feedback_run,
    feedback_readiness,
    run_of_model,
)

Q1 = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
Q2 = [{"role": "user", "content": "Two plus two?"}]


def test_thumbs_and_better_answers_make_pairs_in_trl_format(tunedesk_home: Path) -> None:
    feedback = FeedbackFile(feedback_path("my run: v1"))
    assert feedback.path.parent == tunedesk_home / "datasets" and " " not in feedback.path.name
    assert feedback.rate(Q1, "Paris.", up=True) == 0  # a lone thumb waits for its counterpart
    assert not feedback.path.read_text()
    assert feedback.rate(Q1, "I love France! It has many cities.", up=False) == 1
    assert feedback.better_answer(Q2, "Five.", "Four.") == 2
    assert feedback.rate(Q2, "4", up=True) == 3  # beats the answer rated down with "better"
    rows = [json.loads(line) for line in feedback.path.read_text().splitlines()]
    assert rows[0] == {
        "prompt": Q1,
        "chosen": [{"role": "assistant", "content": "Paris."}],
        "rejected": [{"role": "assistant", "content": "I love France! It has many cities."}],
    }
    assert [(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in rows[1:]] == [
        ("Four.", "Five."),
        ("4", "Five."),
    ]
    loaded = load_dataset(feedback.path)  # the pipeline reads it as preference pairs, without problems
    assert loaded.data_format == "preference" and len(loaded.records) == 3 and not loaded.problems
    assert loaded.records[0].messages == [*Q1, {"role": "assistant", "content": "Paris."}]
    assert not list(feedback.path.parent.glob(".*.tmp"))  # atomic writes leave no temp file behind


def test_answers_with_unicode_line_separators_survive(tunedesk_home: Path) -> None:
    """A model's answer may hold U+2028 or U+0085: the ratings file must still read back (it once broke)."""
    feedback = FeedbackFile(feedback_path("run"))
    feedback.rate(Q1, "Paris.\u2028Capital.", up=True)
    assert feedback.rate(Q1, "Lyon\x85 maybe.", up=False) == 1
    assert [r["answer"] for r in feedback.ratings()] == ["Paris.\u2028Capital.", "Lyon\x85 maybe."]
    assert len(load_dataset(feedback.path).records) == 1


def test_a_new_thumb_on_the_same_answer_replaces_the_old_one(tunedesk_home: Path) -> None:
    feedback = FeedbackFile(feedback_path("m"))
    feedback.rate(Q1, "Paris.", up=True)
    assert feedback.rate(Q1, "Lyon.", up=False) == 1
    assert feedback.rate(Q1, "Paris.", up=False) == 0  # changed their mind: two bad answers, no pair
    assert len(feedback.ratings()) == 2
    assert feedback.rate(Q1, "Paris.", up=True) == 1


def test_feedback_refuses_what_cannot_be_a_pair(tunedesk_home: Path) -> None:
    feedback = FeedbackFile(feedback_path("m"))
    with pytest.raises(TuneDeskError):
        feedback.better_answer(Q1, "Paris.", "  ")
    with pytest.raises(TuneDeskError):
        feedback.better_answer(Q1, "Paris.", "Paris. ")
    with pytest.raises(TuneDeskError):
        feedback.rate([{"role": "assistant", "content": "hi"}], "Paris.", up=True)
    assert feedback.ratings() == []


def test_train_on_my_feedback_continues_the_chatted_run(tunedesk_home: Path, tmp_path: Path) -> None:
    earlier = create_run(RunConfig(model="starter", data=str(tmp_path / "sft.jsonl"), name="triage"))
    (earlier.root / "events.jsonl").write_text("")
    (earlier.adapter).mkdir()
    (earlier.adapter / "adapter_config.json").write_text("{}")
    gguf = earlier.export / "triage-q8_0.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    assert run_of_model(gguf) == earlier.root
    assert run_of_model(tmp_path / "elsewhere.gguf") is None

    feedback = FeedbackFile(feedback_path("triage"))
    with pytest.raises(TuneDeskError) as info:
        create_feedback_run(earlier.root, feedback.path)
    assert "no feedback" in info.value.message
    feedback.better_answer(Q1, "Hmm.", "Paris.")
    layout = create_feedback_run(earlier.root, feedback.path)
    config = load_config(layout.root)
    assert config.model == "starter" and config.data == str(feedback.path.resolve())
    assert config.preset.objective == "dpo" and config.preset.name == "dpo"
    assert config.preset.init_adapter == str(earlier.adapter.resolve())
    assert config.name == "triage + feedback"


def test_train_on_my_feedback_is_ready_with_a_run_its_adapter_and_enough_pairs(
    tunedesk_home: Path, tmp_path: Path
) -> None:
    assert "Open a model" in feedback_readiness("").reason
    assert "a model TuneDesk trained" in feedback_readiness(tmp_path / "other.gguf").reason
    earlier = create_run(RunConfig(model="starter", data=str(tmp_path / "sft.jsonl"), name="triage"))
    (earlier.root / "events.jsonl").write_text("")
    gguf = earlier.export / "triage-q8_0.gguf"
    feedback = FeedbackFile(feedback_path(gguf.stem))
    for i in range(MIN_FEEDBACK_PAIRS - 1):
        feedback.better_answer([{"role": "user", "content": f"Question {i}?"}], "Hmm.", f"Answer {i}.")
    assert f"needs {MIN_FEEDBACK_PAIRS} preference pairs, {MIN_FEEDBACK_PAIRS - 1} so far" in (
        feedback_readiness(gguf).reason
    )
    feedback.better_answer(Q2, "Five.", "Four.")
    assert "no trained adapter" in feedback_readiness(gguf).reason  # the run never saved one
    earlier.adapter.mkdir()
    (earlier.adapter / "adapter_config.json").write_text("{}")
    ready = feedback_readiness(gguf)
    assert ready.ready and ready.pairs == MIN_FEEDBACK_PAIRS
    assert (ready.run_dir, ready.pairs_file) == (earlier.root, feedback.path)


def test_feedback_continues_the_adapter_the_chatted_model_was_exported_from(
    tunedesk_home: Path, tmp_path: Path
) -> None:
    """A run with best/ and adapter/ exported with --checkpoint final: the feedback run continues adapter/,
    the model that was chatted with, not best/. The export says which (its companion file, or its events)."""
    from tunedesk.core.chat.companion import GgufCompanion, write_companion
    from tunedesk.core.protocol import EventWriter

    earlier = create_run(RunConfig(model="starter", data=str(tmp_path / "sft.jsonl"), name="triage"))
    (earlier.root / "events.jsonl").write_text("")
    for folder in (earlier.best, earlier.adapter):
        folder.mkdir()
        (folder / "adapter_config.json").write_text("{}")
    final, best = earlier.export / "triage-q8_0.gguf", earlier.export / "triage-q4_k_m.gguf"
    final.parent.mkdir()
    for gguf in (final, best):
        gguf.write_bytes(b"GGUF")
    write_companion(final, GgufCompanion(run_dir=str(earlier.root), quant="q8_0", checkpoint="final"))
    # An export from before companions named the adapter: its `finished` event does.
    EventWriter(log_path=earlier.export / "events.jsonl").emit(
        "finished", status="completed", gguf_path=str(best), checkpoint="best"
    )
    feedback = FeedbackFile(feedback_path(final.stem))
    for i in range(MIN_FEEDBACK_PAIRS):
        feedback.better_answer([{"role": "user", "content": f"Question {i}?"}], "Hmm.", f"Answer {i}.")

    ready = feedback_readiness(final)
    assert ready.ready and ready.checkpoint == "final"
    layout = create_feedback_run(ready.run_dir, ready.pairs_file, checkpoint=ready.checkpoint)
    assert load_config(layout.root).preset.init_adapter == str(earlier.adapter.resolve())
    assert feedback_readiness(best).checkpoint == "best"
    again = create_feedback_run(earlier.root, feedback.path, out=tmp_path / "again", checkpoint="best")
    config = load_config(again.root)
    assert config.preset.init_adapter == str(earlier.best.resolve())

    shutil.rmtree(earlier.adapter)  # the adapter it was made from is gone: say so, never train another
    assert "final adapter (adapter/)" in feedback_readiness(final).reason


def test_feedback_run_on_a_gpu_keeps_its_16_bit_precision(tunedesk_home: Path, tmp_path: Path) -> None:
    """dpo.toml's fp32 is for the CPU and the Apple GPU: on CUDA the run keeps what the GPU trained with."""
    from tunedesk.core.presets.preset import Preset
    from tunedesk.core.protocol import EventWriter

    made = []
    for device, precision in (("cuda", "bf16"), ("cuda", "fp16"), ("cpu", "bf16"), ("mps", "bf16")):
        earlier = create_run(
            RunConfig(model="starter", data="sft.jsonl", preset=Preset(precision=precision)),
            tmp_path / f"{device}-{precision}",
        )
        EventWriter(log_path=earlier.events).emit(
            "started", run_dir=str(earlier.root), total_steps=10, device=device
        )
        earlier.adapter.mkdir()
        (earlier.adapter / "adapter_config.json").write_text("{}")
        feedback = FeedbackFile(feedback_path("m"))
        feedback.better_answer(Q1, "Hmm.", "Paris.")
        out = tmp_path / f"dpo-{device}-{precision}"
        made.append(
            load_config(create_feedback_run(earlier.root, feedback.path, out=out).root).preset.precision
        )
    assert made == ["bf16", "fp16", "fp32", "fp32"]
