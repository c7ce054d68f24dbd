"""Verification judges the file, not the wording: intact files of every quantization pass, damaged ones fail
(a corrupted weight tensor, another tokenizer), on the tiny model; the bounds live in quants.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.unit.test_export_helpers import corrupt_tensor, make_run, scramble_tokenizer

from tunedesk.core.export.convert import convert_to_gguf
from tunedesk.core.export.merge import merge_run
from tunedesk.core.export.pipeline import plan_export
from tunedesk.core.export.quantize import quantize_gguf
from tunedesk.core.export.quants import QUANT_NAMES, after_failed_verification
from tunedesk.core.export.verify import verify_gguf


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict:
    layout = make_run(tmp_path_factory.mktemp("verify") / "run", tiny_model_dir)
    plan = plan_export(layout.root, quant="f16")
    merge_run(plan.layout, plan.config, plan.choice, plan.base_dir, plan.merged, log=lambda m: None)
    out = tmp_path_factory.mktemp("gguf")
    f16 = convert_to_gguf(plan.merged, out / "f16.gguf", log=lambda m: None)
    ggufs = {"f16": f16, **{q: quantize_gguf(f16, out / f"{q}.gguf", q) for q in QUANT_NAMES[1:]}}
    return {"layout": layout, "merged": plan.merged, "ggufs": ggufs, "cache": out / "cache"}


def _verify(files: dict, gguf: Path, quant: str, val: Path | None = None):
    val = val or files["layout"].data / "val.jsonl"
    return verify_gguf(gguf, files["merged"], val, quant, cache=files["cache"], n_prompts=3, max_tokens=12)


@pytest.mark.parametrize("quant", QUANT_NAMES)
def test_intact_file_passes(files: dict, quant: str) -> None:
    report = _verify(files, files["ggufs"][quant], quant)
    s = report.summary
    print(quant, {k: s[k] for k in ("kl_divergence", "top1_agreement", "perplexity_ratio", "scored_tokens")})
    assert report.passed, report.failures
    assert s["scored_tokens"] > 20 and s["kl_divergence"] <= s["bounds"]["max_kl"]
    assert s["verdict"].startswith(f"The {quant} file predicts like the merged model")


@pytest.mark.parametrize("quant", QUANT_NAMES)
def test_corrupted_tensor_fails(files: dict, quant: str, tmp_path: Path) -> None:
    broken = shutil.copyfile(files["ggufs"][quant], tmp_path / "broken.gguf")
    corrupt_tensor(broken)
    report = _verify(files, broken, quant)
    assert not report.passed
    assert any("KL divergence" in f or "invalid numbers" in f for f in report.failures), report.failures


@pytest.mark.parametrize("quant", QUANT_NAMES)
def test_other_tokenizer_fails(files: dict, quant: str, tmp_path: Path) -> None:
    broken = shutil.copyfile(files["ggufs"][quant], tmp_path / "broken.gguf")
    scramble_tokenizer(broken)
    report = _verify(files, broken, quant)
    assert not report.passed
    assert report.summary["tokenizer_match"] < 0.5
    assert any("different tokenizer" in f for f in report.failures), report.failures


def test_raw_text_run_is_compared_on_held_out_text(files: dict, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (files["layout"].data / "val.jsonl").read_text().splitlines()]
    text_val = tmp_path / "val.jsonl"
    text_val.write_text(
        "".join(
            json.dumps({"line": r["line"], "kind": "text", "text": r["messages"][-1]["content"]}) + "\n"
            for r in rows
        )
    )
    report = _verify(files, files["ggufs"]["q8_0"], "q8_0", text_val)
    assert report.passed, report.failures
    assert report.summary["scored_tokens"] > 20 and report.summary["prompts"] == 0


@pytest.mark.parametrize("quant", QUANT_NAMES)
def test_hint_after_a_failure_never_suggests_the_failed_choice(quant: str) -> None:
    hint = after_failed_verification(quant)
    assert quant not in hint
    if quant != "f16":
        assert "Try " in hint
