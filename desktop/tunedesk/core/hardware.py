"""What this machine can train on, as a `HardwareInfo`, without the caller ever importing torch.

`probe_hardware()` is what the GUI and the CLI call. It runs ``python -m tunedesk.worker probe`` in a
subprocess (torch takes seconds to import and a broken CUDA install can crash a process) and caches the
JSON in ``<home>/cache/hardware.json``. A cached probe is reused for a day, unless the Python or torch (or
bitsandbytes) version changed since; the numbers that move minute to minute (free RAM, free disk) are
refreshed on every call with psutil, which is cheap. The probe itself lives in device_probe.py.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.errors import TuneDeskError

# Bump when HardwareInfo's fields change meaning: older caches are then re-probed.
SCHEMA_VERSION = 1
CACHE_MAX_AGE_S = 24 * 3600
PROBE_TIMEOUT_S = 180
# bf16 matmuls must beat fp32 by this much on the CPU before we train in it. Matmuls are only part of a
# training step: on an AMX Xeon a 4x faster bf16 matmul gave a 1.5x faster LoRA step (autocast), and on
# AVX-512 without bf16 units bf16 is 3x slower (FINDINGS). 1.5 keeps marginal cases on fp32.
CPU_BF16_MARGIN = 1.5
# Share of a GPU's memory a run can count on (the driver and a desktop keep a little).
CUDA_USABLE = 0.95


@dataclass
class CudaDevice:
    index: int
    name: str
    total_mb: float
    free_mb: float
    capability: str  # "8.6"
    bf16: bool

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CudaDevice:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})


@dataclass
class HardwareInfo:
    os: str = ""  # "Linux", "Darwin", "Windows"
    os_release: str = ""
    machine: str = ""  # "x86_64", "arm64"
    python: str = ""
    torch: str | None = None
    transformers: str | None = None
    peft: str | None = None
    llama_cpp: str | None = None
    bitsandbytes: str | None = None
    cpu_model: str = ""
    cpu_physical_cores: int | None = None
    cpu_logical_cores: int | None = None
    cpu_flags: list[str] = field(default_factory=list)  # of: avx2, avx512f, avx512_bf16, amx, neon, bf16
    cpu_fp32_gflops: float | None = None  # measured matmul throughput of one core (None: not measured)
    cpu_bf16_gflops: float | None = None
    ram_total_mb: float = 0.0
    ram_available_mb: float = 0.0
    disk_path: str = ""
    disk_free_mb: float = 0.0
    cuda: list[CudaDevice] = field(default_factory=list)
    cuda_version: str | None = None
    bnb_4bit: bool = False  # a tiny NF4 Linear4bit ran on the GPU
    bnb_error: str | None = None
    mps: bool = False
    mps_bf16: bool = False
    mps_memory_mb: float | None = None  # what Metal recommends as the working set (unified memory)
    probed_at: float = 0.0
    probe_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # things the probe could not find out, in plain words
    schema: int = SCHEMA_VERSION

    # ---- derived -----------------------------------------------------------------------------------
    @property
    def best_device(self) -> str:
        if self.cuda:
            return "cuda"
        if self.mps:
            return "mps"
        return "cpu"

    @property
    def cpu_prefers_bf16(self) -> bool:
        """True only when the probe measured bf16 matmuls clearly faster than fp32 on this CPU."""
        if not self.cpu_fp32_gflops or not self.cpu_bf16_gflops:
            return False
        return self.cpu_bf16_gflops > self.cpu_fp32_gflops * CPU_BF16_MARGIN

    def device_memory_mb(self, device: str | None = None) -> float:
        """Memory a training run on `device` may use: GPU capacity, Metal's working set, or free RAM."""
        device = device or self.best_device
        if device == "cuda" and self.cuda:
            # By capacity, not by the free figure of the (up to a day old) probe, so the choice does not
            # depend on what else ran at that moment; selection warns when other programs held memory.
            return self.cuda[0].total_mb * CUDA_USABLE
        if device == "mps" and self.mps_memory_mb:
            return min(self.mps_memory_mb, self.ram_available_mb or self.mps_memory_mb)
        return self.ram_available_mb

    def summary(self) -> str:
        """One plain line for a status bar."""
        if self.cuda:
            gpu = self.cuda[0]
            gb = f"{gpu.total_mb / 1024:.0f} GB"
            if self.bnb_4bit:
                return f"QLoRA or LoRA on this GPU ({gpu.name}, {gb})"
            kind = "bf16" if gpu.bf16 else "fp16"
            return f"LoRA in {kind} on this GPU ({gpu.name}, {gb}); QLoRA needs bitsandbytes"
        if self.mps:
            return f"LoRA on the Apple GPU (Metal, {self.ram_total_mb / 1024:.0f} GB unified memory)"
        cores = self.cpu_physical_cores or self.cpu_logical_cores or "?"
        return f"LoRA on CPU: slow but works ({cores} cores, {self.ram_total_mb / 1024:.0f} GB RAM)"

    # ---- conversion --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["best_device"] = self.best_device
        d["summary"] = self.summary()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HardwareInfo:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        kwargs["cuda"] = [CudaDevice.from_dict(g) for g in d.get("cuda") or []]
        return cls(**kwargs)


# ---- cheap facts (no torch) -------------------------------------------------------------------------
def package_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def existing_parent(path: Path) -> Path:
    """The folder itself if it exists, else its nearest existing ancestor (runs/ may not exist yet)."""
    path = path.expanduser().absolute()
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or "/")


def refresh_volatile(info: HardwareInfo) -> HardwareInfo:
    """Free RAM and free disk change all the time: re-read them (psutil, shutil; milliseconds)."""
    import psutil

    from tunedesk.core.paths import runs_dir

    vm = psutil.virtual_memory()
    info.ram_total_mb = vm.total / 2**20
    info.ram_available_mb = vm.available / 2**20
    where = existing_parent(runs_dir())
    info.disk_path = str(where)
    info.disk_free_mb = shutil.disk_usage(where).free / 2**20
    return info


def basic_info() -> HardwareInfo:
    """What can be known without torch: OS, CPU, memory, disk, library versions. A probe without a GPU part."""
    from tunedesk.core.cpu_info import cpu_details

    model, flags, physical, logical = cpu_details()
    info = HardwareInfo(
        os=platform.system(),
        os_release=platform.release(),
        machine=platform.machine(),
        python=platform.python_version(),
        torch=package_version("torch"),
        transformers=package_version("transformers"),
        peft=package_version("peft"),
        llama_cpp=package_version("llama_cpp_python"),
        bitsandbytes=package_version("bitsandbytes"),
        cpu_model=model,
        cpu_physical_cores=physical,
        cpu_logical_cores=logical,
        cpu_flags=flags,
        probed_at=time.time(),
    )
    return refresh_volatile(info)


def probe_in_process(*, benchmark: bool = True) -> HardwareInfo:
    """The full probe in this process (imports torch). The GUI must use `probe_hardware` instead."""
    from tunedesk.core.device_probe import probe_devices

    start = time.perf_counter()
    info = basic_info()
    probe_devices(info, benchmark=benchmark)
    info.probe_seconds = round(time.perf_counter() - start, 3)
    return info


# ---- the cached subprocess probe ----------------------------------------------------------------------
def cache_path() -> Path:
    from tunedesk.core.paths import cache_dir

    return cache_dir() / "hardware.json"


def cache_is_current(info: HardwareInfo) -> bool:
    return (
        info.schema == SCHEMA_VERSION
        and info.python == platform.python_version()
        and info.torch == package_version("torch")
        and info.bitsandbytes == package_version("bitsandbytes")
        and 0 <= time.time() - info.probed_at < CACHE_MAX_AGE_S
    )


def read_cache() -> HardwareInfo | None:
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
        return HardwareInfo.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        return None  # missing or damaged: probe again


def run_probe_subprocess(timeout: float = PROBE_TIMEOUT_S) -> HardwareInfo:
    from tunedesk.core.launch import worker_command, worker_env

    cmd = worker_command("probe")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=worker_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TuneDeskError(
            f"The hardware probe did not finish within {timeout:.0f} s.",
            hint="A GPU driver may be hanging; run `python -m tunedesk.worker probe` to see where it stops.",
            kind="probe_failed",
        ) from None
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else None
    except ValueError:
        data = None
    if proc.returncode != 0 or not isinstance(data, dict):
        tail = (proc.stderr or proc.stdout).strip()[-1500:]
        raise TuneDeskError(
            f"The hardware probe failed (exit status {proc.returncode}):\n{tail}",
            hint="Check that torch imports: python -c 'import torch'. Reinstall it if that fails.",
            kind="probe_failed",
        )
    return HardwareInfo.from_dict(data)


def probe_hardware(use_cache: bool = True) -> HardwareInfo:
    """This machine's HardwareInfo, from the cache when it is current, else from a fresh subprocess probe."""
    if use_cache:
        cached = read_cache()
        if cached is not None and cache_is_current(cached):
            return refresh_volatile(cached)
    info = run_probe_subprocess()
    write_json_atomic(cache_path(), dataclasses.asdict(info))
    return info
