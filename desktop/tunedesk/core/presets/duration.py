"""How long a run will take, said before Start: "Quick try, about 3 min" / "Full, about 18 min".

Speed is counted in effective GFLOP/s (training tokens per second times the work of one token), which
carries over between models of different sizes. It comes from the runs this machine has finished (their
`started` and `step` events) when there are any on the same device, else from the hardware probe's matmul
measurement times a typical training efficiency. Either way the answer is "about": loading, checks and a
busy machine move it, which is why measured runs take over as soon as there are some.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from tunedesk.core.data.encode import DataStats
from tunedesk.core.data.split import split_sizes
from tunedesk.core.formatting import about_duration
from tunedesk.core.hardware.info import HardwareInfo
from tunedesk.core.models.info import ModelInfo
from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import read_events

# Share of the probe's per-core matmul peak that a training step reaches, all cores together (measured on
# 2-core CPUs: 120-185 tokens/s for the 135M starter at 165 GFLOP/s per core in fp32).
CPU_EFFICIENCY = 0.2
# No probe figure for GPUs: a deliberately modest effective speed, replaced by measured runs after the first.
ASSUMED_GPU_GFLOPS = {"cuda": 8000.0, "mps": 1500.0}
STARTUP_SECONDS = 30.0  # loading the model and the data, the first check's set-up
GENERATION_SLOWDOWN = 12.0  # sample answers: token by token, about this much slower than training tokens
RECENT_RUNS = 5  # measured speed: the median of the latest runs on the same device
QUICK_SHARE, QUICK_MIN_STEPS = 0.2, 20


def flops_per_token(params: int, method: str) -> float:
    """Forward (2N) and the backward pass to the inputs (2N); a full fine-tune also computes weight grads."""
    return (6.0 if method == "full" else 4.0) * max(params, 1)


@dataclass
class LengthChoice:
    key: str  # quick | full
    label: str  # "Quick try" | "Full"
    max_steps: int
    seconds: float

    @property
    def text(self) -> str:
        return f"{self.label}, {about_duration(self.seconds)}"


@dataclass
class DurationEstimate:
    tokens_per_second: float
    source: str  # a plain sentence: where the speed figure comes from
    choices: list[LengthChoice] = field(default_factory=list)

    def choice(self, key: str) -> LengthChoice:
        return next(c for c in self.choices if c.key == key)


def measured_gflops(device: str, runs_root: Path | None = None) -> tuple[float | None, int]:
    """(effective GFLOP/s of this machine's latest runs on `device`, how many runs it comes from)."""
    from tunedesk.core.paths import runs_dir

    root = Path(runs_root) if runs_root else runs_dir()
    events_files = sorted(root.glob("*/events.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)
    speeds: list[float] = []
    for path in events_files:
        speed = _run_gflops(path, device)
        if speed:
            speeds.append(speed)
        if len(speeds) >= RECENT_RUNS:
            break
    return (statistics.median(speeds) if speeds else None), len(speeds)


def _run_gflops(events_path: Path, device: str) -> float | None:
    started, last_speed = None, None
    for ev in read_events(events_path):
        if ev["event"] == "started":
            started = ev
        elif ev["event"] == "step" and ev.get("tokens_per_second"):
            last_speed = float(ev["tokens_per_second"])  # the clock's running mean over the run
    if not started or not last_speed or started.get("device") != device or not started.get("total_params"):
        return None
    return last_speed * flops_per_token(int(started["total_params"]), str(started.get("method"))) / 1e9


def probe_gflops(hw: HardwareInfo, device: str, precision: str) -> float:
    if device in ASSUMED_GPU_GFLOPS:
        return ASSUMED_GPU_GFLOPS[device]
    per_core = (hw.cpu_bf16_gflops if precision == "bf16" else hw.cpu_fp32_gflops) or hw.cpu_fp32_gflops
    cores = hw.cpu_physical_cores or hw.cpu_logical_cores or 1
    return (per_core or 50.0) * cores * CPU_EFFICIENCY


def estimate_duration(
    preset: Preset,
    stats: DataStats,
    hw: HardwareInfo,
    info: ModelInfo,
    device: str,
    *,
    runs_root: Path | None = None,
) -> DurationEstimate:
    """Quick-try and full lengths (their max_steps) and about how long each takes on this machine."""
    measured, n_runs = measured_gflops(device, runs_root)
    if measured:
        gflops = measured
        source = f"Measured on this machine ({n_runs} earlier run{'s' if n_runs > 1 else ''})."
    else:
        gflops = probe_gflops(hw, device, preset.precision)
        source = "Estimated from this machine's measured speed; the first run makes it precise."
    tps = gflops * 1e9 / flops_per_token(info.params, preset.method)
    n_val, n_test = split_sizes(stats.n_examples, preset.val_fraction, preset.val_max)
    n_train = max(1, stats.n_examples - n_val - n_test)
    per_example = min(stats.total_tokens / max(stats.n_examples, 1), preset.seq_len)
    examples_per_step = preset.batch_size * preset.grad_accum
    full = max(1, math.ceil(preset.epochs * math.ceil(n_train / examples_per_step)))
    if preset.max_steps > 0:
        full = preset.max_steps
    quick = min(full, max(QUICK_MIN_STEPS, math.ceil(full * QUICK_SHARE)))

    def seconds(steps: int) -> float:
        train = steps * examples_per_step * per_example / tps
        checks = (preset.eval_every and steps // preset.eval_every or min(steps, 10)) + 1
        validate = checks * n_val * per_example / (tps * 3)  # forward only: a third of a training token
        samples = checks * preset.sample_prompts * preset.sample_max_tokens * GENERATION_SLOWDOWN / tps
        return STARTUP_SECONDS + train + validate + samples

    choices = [LengthChoice("quick", "Quick try", quick, seconds(quick))]
    if full > quick:
        choices.append(LengthChoice("full", "Full", full, seconds(full)))
    return DurationEstimate(round(tps, 1), source, choices)
