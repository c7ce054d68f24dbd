"""The part of the hardware probe that needs torch: CUDA devices, bitsandbytes 4-bit, Apple MPS, and a
quick fp32-vs-bf16 matmul benchmark on the CPU.

Runs inside ``python -m tunedesk.worker probe`` (see probe.py for why in a subprocess). Each step that
can fail on a half-working install (a CUDA driver mismatch, a bitsandbytes without kernels for this GPU)
is caught and written into ``info.notes`` in plain words, so the probe still reports everything else.
"""

from __future__ import annotations

import time
from typing import Any

from tunedesk.core.hardware.info import CudaDevice, HardwareInfo
from tunedesk.core.hardware.nvidia import nvidia_gpu_names, unused_gpu_note

BENCH_SECONDS = 0.3
BENCH_SIZE = 512  # ~1 ms per fp32 matmul on a laptop core: many samples fit in the time budget


def probe_devices(info: HardwareInfo, *, benchmark: bool = True) -> HardwareInfo:
    import torch

    info.torch = torch.__version__
    _probe_cuda(torch, info)
    if not info.cuda:  # a CPU-only torch (the installers' build) says nothing about an NVIDIA card
        note = unused_gpu_note(nvidia_gpu_names())
        if note:
            info.notes.append(note)
    _probe_mps(torch, info)
    if benchmark:
        try:
            speeds = matmul_gflops(torch, (torch.float32, torch.bfloat16))
            info.cpu_fp32_gflops = round(speeds[torch.float32], 1)
            info.cpu_bf16_gflops = round(speeds[torch.bfloat16], 1)
        except Exception as exc:  # a CPU build without bf16 kernels: leave it unmeasured
            info.notes.append(f"CPU benchmark failed: {exc}")
    return info


def matmul_gflops(
    torch: Any, dtypes: tuple[Any, ...], size: int = BENCH_SIZE, seconds: float = BENCH_SECONDS
) -> dict:
    """Matmul throughput of one CPU core in GFLOP/s per dtype.

    Single calls of each dtype are timed in turn and the fastest call of each counts: on a busy machine a
    call that was preempted is slow, never fast, so the minimum is what the CPU can do, and interleaving
    keeps a burst of load from landing on one dtype only. (A summed 0.1 s window read 1 GFLOP/s for fp32
    while other processes ran.)
    """
    threads = torch.get_num_threads()
    # One thread: with several, a matmul waits for its slowest thread, and on a busy machine one of them is
    # always descheduled (2 threads read 3 GFLOP/s here where 1 thread reads 165). The fp32:bf16 ratio,
    # which is what decides, is a property of the core.
    torch.set_num_threads(1)
    try:
        return _fastest_calls(torch, dtypes, size, seconds)
    finally:
        torch.set_num_threads(threads)


def _fastest_calls(torch: Any, dtypes: tuple[Any, ...], size: int, seconds: float) -> dict:
    mats = {dt: (torch.randn(size, size).to(dt), torch.randn(size, size).to(dt)) for dt in dtypes}
    best = dict.fromkeys(dtypes, float("inf"))
    for a, b in mats.values():
        torch.mm(a, b)  # warm-up: first call allocates and picks kernels
    deadline = time.perf_counter() + seconds
    rounds = 0
    while rounds < 3 or time.perf_counter() < deadline:
        for dt, (a, b) in mats.items():
            start = time.perf_counter()
            torch.mm(a, b)
            best[dt] = min(best[dt], time.perf_counter() - start)
        rounds += 1
    return {dt: 2 * size**3 / max(t, 1e-9) / 1e9 for dt, t in best.items()}


def _probe_cuda(torch: Any, info: HardwareInfo) -> None:
    try:
        available = torch.cuda.is_available()
    except Exception as exc:
        info.notes.append(f"CUDA check failed: {exc}")
        return
    if not available:
        return
    info.cuda_version = getattr(torch.version, "cuda", None)
    for i in range(torch.cuda.device_count()):
        try:
            props = torch.cuda.get_device_properties(i)
            free, total = torch.cuda.mem_get_info(i)
            major, minor = torch.cuda.get_device_capability(i)
        except Exception as exc:
            info.notes.append(f"CUDA device {i} could not be read: {exc}")
            continue
        info.cuda.append(
            CudaDevice(
                index=i,
                name=props.name,
                total_mb=round(total / 2**20, 1),
                free_mb=round(free / 2**20, 1),
                capability=f"{major}.{minor}",
                # bf16 tensor cores arrived with Ampere (8.0); older cards emulate it slowly or not at all
                bf16=major >= 8,
            )
        )
    if info.cuda:
        info.bnb_4bit, info.bnb_error = _try_bnb_4bit(torch, info.cuda[0].bf16)


def _try_bnb_4bit(torch: Any, bf16: bool) -> tuple[bool, str | None]:
    """Run a tiny NF4 Linear4bit forward and backward on the GPU: importing bitsandbytes is not proof that
    its kernels exist for this GPU and CUDA version."""
    try:
        import bitsandbytes as bnb
    except Exception as exc:  # not installed, or its native library failed to load
        return False, f"bitsandbytes is not usable: {exc}".strip()
    try:
        dtype = torch.bfloat16 if bf16 else torch.float16
        layer = bnb.nn.Linear4bit(64, 64, bias=False, compute_dtype=dtype, quant_type="nf4")
        layer = layer.to("cuda")  # quantization to 4 bits happens on this move
        x = torch.randn(4, 64, device="cuda", dtype=dtype, requires_grad=True)
        y = layer(x)
        y.float().sum().backward()
        torch.cuda.synchronize()
        if not torch.isfinite(y).all() or x.grad is None:
            return False, "bitsandbytes 4-bit layer returned non-finite values"
    except Exception as exc:
        return False, f"bitsandbytes 4-bit test failed: {exc}"
    return True, None


def _probe_mps(torch: Any, info: HardwareInfo) -> None:
    try:
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            return
        info.mps = True
        # Unified memory: Metal lets the GPU use part of RAM; it says how much as the recommended working set.
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        info.mps_memory_mb = (
            round(recommended() / 2**20, 1) if recommended else round(info.ram_total_mb * 2 / 3, 1)
        )
    except Exception as exc:
        info.notes.append(f"Apple MPS check failed: {exc}")
        return
    try:
        t = torch.ones(4, device="mps", dtype=torch.bfloat16)
        info.mps_bf16 = bool((t * 2).sum().item() == 8)  # bf16 needs macOS 14+ on Apple silicon
    except Exception:
        info.mps_bf16 = False
