"""An NVIDIA GPU that this build of torch cannot use, found without CUDA.

The installers ship CPU-only torch (one bundle that runs everywhere, a tenth of a CUDA bundle's size; see
packaging/README.md). On a machine with an NVIDIA card that torch reports no CUDA device, so the card
would go unmentioned. The driver announces the card without torch: Linux lists it under
/proc/driver/nvidia/gpus, and `nvidia-smi` comes with the driver on Linux and Windows. The probe turns
what it finds into a note that says how to train on the GPU.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PROC_GPUS = Path("/proc/driver/nvidia/gpus")

GPU_TRAINING_HINT = (
    "This TuneDesk build trains on the CPU only. To train on the GPU, install TuneDesk from source with a "
    "CUDA build of PyTorch (README.md, 'GPU training'); runs, data and exports carry over."
)


def _from_proc(proc_gpus: Path) -> list[str]:
    names = []
    for info in sorted(proc_gpus.glob("*/information")):
        for line in info.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model" and value.strip():
                names.append(value.strip())
    return names


def _from_smi(smi: str) -> list[str]:
    try:
        proc = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    # "GPU 0: NVIDIA GeForce RTX 3060 (UUID: GPU-...)"
    names = []
    for line in proc.stdout.splitlines():
        head, sep, rest = line.partition(": ")
        if head.startswith("GPU") and sep:
            names.append(rest.split(" (UUID")[0].strip())
    return names


def nvidia_gpu_names(proc_gpus: Path = PROC_GPUS, smi: str | None = None) -> list[str]:
    """The NVIDIA GPUs the driver knows about (empty when there is no driver or no card)."""
    try:
        names = _from_proc(proc_gpus)
    except OSError:
        names = []
    if names:
        return names
    smi = smi or shutil.which("nvidia-smi")
    return _from_smi(smi) if smi else []


def unused_gpu_note(names: list[str]) -> str | None:
    """The note for GPUs that torch cannot use here, or None when there are none."""
    if not names:
        return None
    return f"NVIDIA GPU found ({', '.join(names)}), but this torch has no CUDA. {GPU_TRAINING_HINT}"
