"""`probe_hardware()`: this machine's `HardwareInfo`, without the caller ever importing torch.

It is what the GUI and the CLI call. It runs ``python -m tunedesk.worker probe`` in a subprocess (torch
takes seconds to import and a broken CUDA install can crash a process) and caches the JSON in
``<home>/cache/hardware.json``. A cached probe is reused for a day, unless the Python or torch (or
bitsandbytes) version changed since; the numbers that move minute to minute (free RAM, free disk) are
refreshed on every call with psutil, which is cheap. The torch part of the probe lives in devices.py.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import platform
import shutil
import subprocess
import time
from pathlib import Path

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.hardware.info import SCHEMA_VERSION, HardwareInfo

CACHE_MAX_AGE_S = 24 * 3600
PROBE_TIMEOUT_S = 180


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
    from tunedesk.core.hardware.cpu import cpu_details

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
    from tunedesk.core.hardware.devices import probe_devices

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
