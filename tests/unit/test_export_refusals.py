"""Exports that must be refused before any work starts, each with a message that says what and where."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.unit.test_export_helpers import make_run

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.merge import choose_adapter
from tunedesk.core.export.pipeline import plan_export
from tunedesk.core.export.quants import get_quant, recommend_quant
from tunedesk.core.launch import worker_command, worker_env
from tunedesk.core.models.info import ModelInfo
from tunedesk.core.protocol import decode


def test_missing_adapter_is_refused_by_the_worker(tmp_path: Path, tiny_model_dir: Path) -> None:
    layout = make_run(tmp_path / "run", tiny_model_dir, adapter=None)
    proc = subprocess.run(
        worker_command("export", str(layout.root)),
        capture_output=True,
        text=True,
        env=worker_env(),
        timeout=300,
    )
    events = [decode(line) for line in proc.stdout.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    error = next(e for e in events if e["event"] == "error")
    assert error["kind"] == "missing_adapter"
    assert "adapter" in error["message"] and error["hint"]
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "failed"
    assert "Traceback" not in proc.stderr
    assert not (layout.root / "export").exists()


def test_best_requested_but_only_final_exists(tmp_path: Path, tiny_model_dir: Path) -> None:
    layout = make_run(tmp_path / "run", tiny_model_dir, adapter="adapter")
    assert choose_adapter(layout).checkpoint == "final"  # the default falls back to the final adapter
    with pytest.raises(TuneDeskError) as err:
        choose_adapter(layout, "best")
    assert err.value.kind == "missing_adapter" and "best/" in err.value.message


def test_best_is_the_default_when_it_exists(tmp_path: Path, tiny_model_dir: Path) -> None:
    layout = make_run(tmp_path / "run", tiny_model_dir, adapter="adapter")
    shutil.copytree(layout.adapter, layout.best)
    assert choose_adapter(layout).path == layout.best
    assert choose_adapter(layout, "final").path == layout.adapter


def test_unsupported_architecture_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    base = tmp_path / "odd-model"
    shutil.copytree(tiny_model_dir, base)
    config = json.loads((base / "config.json").read_text())
    config["architectures"] = ["TotallyNewForCausalLM"]
    (base / "config.json").write_text(json.dumps(config))
    layout = make_run(tmp_path / "run", base)
    with pytest.raises(TuneDeskError) as err:
        plan_export(layout.root, quant="q8_0")
    assert err.value.kind == "not_exportable"
    assert "TotallyNewForCausalLM" in str(err.value)
    assert not (layout.root / "export").exists()


def test_too_little_disk_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    layout = make_run(tmp_path / "run", tiny_model_dir)
    with pytest.raises(TuneDeskError) as err:
        plan_export(layout.root, quant="q8_0", free_space=lambda _path: 1_000_000)
    assert err.value.kind == "disk_full"
    assert err.value.where["needed_bytes"] > 1_000_000 and "--out" in err.value.hint
    plan = plan_export(layout.root, quant="q8_0", free_space=lambda _path: 10**12)
    assert plan.needed_bytes > 0 and plan.quant == "q8_0"


def test_unknown_quant_is_refused() -> None:
    with pytest.raises(TuneDeskError) as err:
        get_quant("q3_xs")
    assert err.value.kind == "bad_setting" and "q8_0" in err.value.hint


def test_recommendation_by_model_size() -> None:
    small = recommend_quant(ModelInfo(params=135_000_000))
    assert small.quant == "q8_0" and "4-bit" in small.reason
    assert str(small) == "q8_0"
    assert recommend_quant(ModelInfo(params=7_000_000_000)).quant == "q4_k_m"
    assert recommend_quant(ModelInfo()).quant == "q8_0"


def test_quants_that_fall_back_on_narrow_rows_are_avoided() -> None:
    """k-quants pack 256 values per block: on 576-wide rows q5_k_m measured worse than q4_k_m, so it is
    not offered; rows that are multiples of 256 keep every choice."""
    starter_like = recommend_quant(ModelInfo(params=135_000_000, hidden_size=576))
    assert list(starter_like.avoid) == ["q5_k_m"] and "576-wide" in starter_like.avoid["q5_k_m"]
    assert recommend_quant(ModelInfo(params=1_700_000_000, hidden_size=2048)).avoid == {}
    # A 1-4B model would get q5_k_m; with narrow rows it gets q6_k instead, never an avoided choice.
    narrow = recommend_quant(ModelInfo(params=1_500_000_000, hidden_size=1600))
    assert narrow.quant == "q6_k" and narrow.quant not in narrow.avoid
    assert narrow.reason == "A 1.5B model: q6_k keeps it close to full quality (q5_k_m does not suit it)."


def test_a_quant_that_does_not_suit_the_model_is_warned_about(tmp_path: Path, tiny_model_dir: Path) -> None:
    """Chosen by the user, q5_k_m on rows that are not multiples of 256 is kept but warned about (the CLI
    prints it), with the choice that suits; a suitable choice is not."""
    layout = make_run(tmp_path / "run", tiny_model_dir)  # 64-wide rows
    events: list[tuple[str, dict]] = []
    plan = plan_export(layout.root, quant="q5_k_m", emit=lambda ev, **f: events.append((ev, f)))
    warnings = [f["message"] for ev, f in events if ev == "log" and f.get("level") == "warning"]
    assert plan.quant == "q5_k_m" and "64-wide" in plan.quant_reason
    assert len(warnings) == 1 and "64-wide" in warnings[0] and "Try q8_0" in warnings[0]
    events.clear()
    plan_export(layout.root, quant="q4_k_m", emit=lambda ev, **f: events.append((ev, f)))
    assert not [f for ev, f in events if f.get("level") == "warning"]
