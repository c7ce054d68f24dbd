"""Issue 10's done-when: a 4-step run of the starter model exports at q8_0 and at q4_k_m and passes
verification (the old greedy-overlap gate rejected both); a broken file of that run still fails it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.unit.test_export_helpers import corrupt_tensor

from tunedesk.core.export.verify import verify_gguf
from tunedesk.core.launch import cli_command, worker_env
from tunedesk.core.paths import sample_dataset

from .train_helpers import make_run, run_worker

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(3600)
def test_undertrained_starter_run_passes_at_q8_0_and_q4_k_m(tmp_path: Path, starter_gguf: Path) -> None:
    run = make_run(
        tmp_path / "run", "starter", sample_dataset(),
        max_steps=4, batch_size=4, grad_accum=1, seq_len=256, eval_every=0, val_max=8, sample_prompts=0,
    )  # fmt: skip
    code, _events, _, stderr = run_worker(run, timeout=1800)
    assert code == 0, stderr[-3000:]
    for quant in ("q8_0", "q4_k_m"):
        proc = subprocess.run(
            cli_command("export", str(run), "--quant", quant, "--json"),
            capture_output=True, text=True, env=worker_env(), timeout=1800,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        v = json.loads(proc.stdout)["verification"]
        assert v["passed"] and v["scored_tokens"] > 50, v
    q4 = (
        run
        / "export"
        / f"{json.loads((run / 'config.json').read_text()).get('name') or run.name}-q4_k_m.gguf"
    )
    broken = shutil.copyfile(next((run / "export").glob("*-q4_k_m.gguf"), q4), tmp_path / "broken.gguf")
    corrupt_tensor(broken)
    report = verify_gguf(
        broken, run / "export" / "merged", run / "data" / "val.jsonl", "q4_k_m",
        cache=tmp_path / "cache", n_prompts=4, max_tokens=16,
    )  # fmt: skip
    assert not report.passed
