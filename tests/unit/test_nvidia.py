"""An NVIDIA card that a CPU-only torch cannot see is still found, from the driver (core/hardware/nvidia.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tunedesk.core.hardware.nvidia import GPU_TRAINING_HINT, nvidia_gpu_names, unused_gpu_note

PROC_INFO = """Model: \t\t NVIDIA GeForce RTX 3060
IRQ:   \t\t 145
GPU UUID: \t GPU-0f3e
Bus Location: \t 0000:01:00.0
"""


def test_card_listed_by_the_linux_driver(tmp_path: Path) -> None:
    (tmp_path / "0000:01:00.0").mkdir()
    (tmp_path / "0000:01:00.0" / "information").write_text(PROC_INFO)
    assert nvidia_gpu_names(tmp_path, smi="/nonexistent/nvidia-smi") == ["NVIDIA GeForce RTX 3060"]


def test_card_listed_by_nvidia_smi(tmp_path: Path) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n"
        'echo "GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-aa)"\n'
        'echo "GPU 1: Tesla T4 (UUID: GPU-bb)"\n'
    )
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    assert nvidia_gpu_names(tmp_path / "no-proc", smi=str(smi)) == ["NVIDIA GeForce RTX 4090", "Tesla T4"]


def test_no_driver_no_card(tmp_path: Path) -> None:
    assert nvidia_gpu_names(tmp_path / "no-proc", smi=os.devnull) == []
    assert unused_gpu_note([]) is None


def test_note_says_how_to_train_on_the_gpu() -> None:
    note = unused_gpu_note(["NVIDIA GeForce RTX 3060"])
    assert note and "RTX 3060" in note and GPU_TRAINING_HINT in note
