"""What this machine can train on: the `HardwareInfo` and `CudaDevice` records (a leaf: no other core import).

The probe that fills them lives in probe.py (subprocess, cached) and devices.py (the torch part).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Bump when HardwareInfo's fields change meaning: older caches are then re-probed.
SCHEMA_VERSION = 1
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
