"""The hardware probe: a real `python -m tunedesk.worker probe` subprocess, its cache, and HardwareInfo."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.hardware.cpu import parse_proc_cpuinfo
from tunedesk.core.hardware.info import CudaDevice, HardwareInfo
from tunedesk.core.hardware.probe import (
    basic_info,
    cache_is_current,
    cache_path,
    existing_parent,
    probe_hardware,
    read_cache,
    refresh_volatile,
)
from tunedesk.core.launch import worker_command, worker_env


def test_probe_subprocess_prints_one_json_object_with_typed_fields() -> None:
    proc = subprocess.run(
        worker_command("probe"), capture_output=True, text=True, env=worker_env(), timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, "stdout must carry only the JSON object"
    d = json.loads(lines[0])
    for key, kind in {
        "os": str,
        "python": str,
        "torch": str,
        "transformers": str,
        "peft": str,
        "cpu_model": str,
        "cpu_flags": list,
        "ram_total_mb": float,
        "ram_available_mb": float,
        "disk_free_mb": float,
        "cuda": list,
        "mps": bool,
        "bnb_4bit": bool,
        "cpu_fp32_gflops": float,
        "cpu_bf16_gflops": float,
        "best_device": str,
        "summary": str,
    }.items():
        assert isinstance(d[key], kind), (key, d[key])
    assert d["python"] == ".".join(map(str, sys.version_info[:3]))
    assert d["cpu_logical_cores"] >= 1
    assert 0 < d["ram_available_mb"] <= d["ram_total_mb"]
    assert d["cpu_fp32_gflops"] > 0 and d["cpu_bf16_gflops"] > 0
    assert d["best_device"] in ("cpu", "cuda", "mps")
    info = HardwareInfo.from_dict(d)
    assert info.best_device == d["best_device"] and info.summary() == d["summary"]


def _seed_cache() -> HardwareInfo:
    """A current cache without paying for a probe: the torch-free facts of this machine, stamped now."""
    info = basic_info()
    write_json_atomic(cache_path(), dataclasses.asdict(info))
    return info


def test_current_cache_is_reused_and_volatile_numbers_refreshed() -> None:
    seeded = _seed_cache()
    cached = json.loads(cache_path().read_text())
    # Make the cached free-RAM figure absurd: a reuse must keep the probe but re-read the volatile numbers.
    write_json_atomic(cache_path(), {**cached, "ram_available_mb": 1.0, "disk_free_mb": 1.0})
    again = probe_hardware()
    assert again.probed_at == seeded.probed_at, "a current cache must be reused, not re-probed"
    assert again.cpu_fp32_gflops is None  # proof it came from the seeded cache (no benchmark in it)
    assert again.ram_available_mb > 1.0 and again.disk_free_mb > 1.0


@pytest.mark.parametrize(
    "tamper",
    [
        {"torch": "0.0.1"},  # torch upgraded since the probe
        {"bitsandbytes": "0.0.1"},  # bitsandbytes installed or upgraded since
        {"python": "3.0.0"},  # a different interpreter
        {"probed_at": time.time() - 3 * 24 * 3600},  # older than a day
        {"schema": -1},  # written by an older TuneDesk
    ],
)
def test_cache_currency_rules(tamper: dict) -> None:
    info = basic_info()
    assert cache_is_current(info)
    assert not cache_is_current(HardwareInfo.from_dict({**dataclasses.asdict(info), **tamper}))


def test_version_change_triggers_a_real_reprobe() -> None:
    seeded = _seed_cache()
    write_json_atomic(cache_path(), {**json.loads(cache_path().read_text()), "torch": "0.0.1"})
    fresh = probe_hardware()
    assert fresh.probed_at > seeded.probed_at and fresh.torch != "0.0.1"
    assert fresh.cpu_fp32_gflops  # the subprocess probe ran (with its benchmark)
    assert read_cache().probed_at == fresh.probed_at  # and was cached


def test_damaged_cache_is_reprobed() -> None:
    cache_path().parent.mkdir(parents=True, exist_ok=True)
    cache_path().write_text("{not json")
    info = probe_hardware()
    assert info.cpu_fp32_gflops and read_cache() is not None


def test_probe_hardware_never_imports_torch_in_the_caller() -> None:
    code = "import sys; from tunedesk.core.hardware.probe import probe_hardware; probe_hardware(); print('torch' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=worker_env(), timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def _cpu(**kw: object) -> HardwareInfo:
    return HardwareInfo(cpu_physical_cores=4, ram_total_mb=16384, ram_available_mb=12000, **kw)  # type: ignore[arg-type]


def test_best_device_and_summary_for_injected_hardware() -> None:
    cpu = _cpu()
    assert cpu.best_device == "cpu" and cpu.summary().startswith("LoRA on CPU: slow but works")
    gpu = CudaDevice(0, "NVIDIA RTX 4090", 24564, 23000, "8.9", True)
    qlora = _cpu(cuda=[gpu], bnb_4bit=True)
    assert qlora.best_device == "cuda" and qlora.summary().startswith("QLoRA or LoRA on this GPU")
    assert qlora.device_memory_mb() == pytest.approx(24564 * 0.95)  # by capacity, not a stale free figure
    no_bnb = _cpu(cuda=[gpu])
    assert "QLoRA needs bitsandbytes" in no_bnb.summary()
    mps = _cpu(mps=True, mps_memory_mb=10900)
    assert mps.best_device == "mps" and "Apple GPU" in mps.summary()
    assert mps.device_memory_mb() == 10900


def test_cpu_precision_follows_the_measurement() -> None:
    assert not _cpu(cpu_fp32_gflops=157, cpu_bf16_gflops=47).cpu_prefers_bf16  # FINDINGS' AVX-512 machine
    assert _cpu(cpu_fp32_gflops=300, cpu_bf16_gflops=1200).cpu_prefers_bf16  # an AMX Xeon
    assert not _cpu(cpu_fp32_gflops=300, cpu_bf16_gflops=330).cpu_prefers_bf16  # marginal: stay on fp32
    assert not _cpu().cpu_prefers_bf16  # not measured


def test_to_dict_from_dict_round_trip() -> None:
    info = _cpu(cuda=[CudaDevice(0, "T4", 15360, 15000, "7.5", False)], notes=["x"])
    again = HardwareInfo.from_dict(json.loads(json.dumps(info.to_dict())))
    assert again == info and again.cuda[0].capability == "7.5"


def test_parse_proc_cpuinfo_x86_and_arm() -> None:
    x86 = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"
    assert parse_proc_cpuinfo(x86) == ("Intel(R) Xeon(R) Gold", ["amx", "avx2", "avx512_bf16", "avx512f"])
    old = "model name\t: Old CPU\nflags\t\t: fpu sse sse2 avx\n"
    assert parse_proc_cpuinfo(old) == ("Old CPU", [])
    arm = "processor\t: 0\nFeatures\t: fp asimd evtstrm bf16 sve\nCPU part\t: 0xd0c\n"
    assert parse_proc_cpuinfo(arm)[1] == ["bf16", "neon", "sve"]


def test_disk_is_measured_at_the_nearest_existing_parent(tmp_path: Path) -> None:
    assert existing_parent(tmp_path / "a" / "b" / "runs") == tmp_path
    assert existing_parent(tmp_path) == tmp_path
    os.environ["TUNEDESK_HOME"] = str(tmp_path / "not-yet")  # the autouse fixture restores it
    info = refresh_volatile(HardwareInfo())
    assert Path(info.disk_path) == tmp_path and info.disk_free_mb > 0 and info.ram_total_mb > 0


def test_bitsandbytes_check_reports_why_it_cannot_run() -> None:
    import importlib.util

    import torch

    from tunedesk.core.hardware.devices import _try_bnb_4bit

    ok, why = _try_bnb_4bit(torch, bf16=True)
    if importlib.util.find_spec("bitsandbytes") is None:
        assert ok is False and why and "bitsandbytes is not usable" in why
    elif not torch.cuda.is_available():
        assert ok is False and why  # no GPU to run the 4-bit layer on
