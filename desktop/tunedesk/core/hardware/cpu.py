"""The CPU's name, core counts and the SIMD features that decide how fast it trains, without torch.

Flags reported (when present): avx2, avx512f, avx512_bf16 (bf16 dot products), amx (Intel AMX tiles, fast
bf16 matmuls), neon and bf16 on ARM. They explain the measured fp32/bf16 speeds in `tunedesk doctor`; the
precision itself is chosen from the measurement, never from the flags alone.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

# The flag names each OS uses, mapped to ours.
_LINUX_X86 = {
    "avx2": "avx2",
    "avx512f": "avx512f",
    "avx512_bf16": "avx512_bf16",
    "amx_bf16": "amx",
    "amx_tile": "amx",
}
_LINUX_ARM = {"asimd": "neon", "bf16": "bf16", "sve": "sve"}
_MAC_X86 = {"AVX2": "avx2", "AVX512F": "avx512f"}
_MAC_ARM_SYSCTL = {"hw.optional.neon": "neon", "hw.optional.arm.FEAT_BF16": "bf16"}


def parse_proc_cpuinfo(text: str) -> tuple[str, list[str]]:
    """Model name and our flags from the text of /proc/cpuinfo (x86 'flags' or ARM 'Features')."""
    model, raw = "", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not raw:
            raw = set(value.split())
    table = {**_LINUX_X86, **_LINUX_ARM}
    return model, sorted({ours for theirs, ours in table.items() if theirs in raw})


def _sysctl(name: str) -> str:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _mac_details() -> tuple[str, list[str]]:
    model = _sysctl("machdep.cpu.brand_string")
    flags: set[str] = set()
    if platform.machine() == "arm64":
        flags.add("neon")
        for name, ours in _MAC_ARM_SYSCTL.items():
            if _sysctl(name) == "1":
                flags.add(ours)
    else:
        raw = set((_sysctl("machdep.cpu.features") + " " + _sysctl("machdep.cpu.leaf7_features")).split())
        flags |= {ours for theirs, ours in _MAC_X86.items() if theirs in raw}
    return model, sorted(flags)


def _windows_details() -> tuple[str, list[str]]:
    model = platform.processor()
    flags: list[str] = []
    try:  # py-cpuinfo is optional: Windows has no flag list a plain program can read
        import cpuinfo  # type: ignore[import-untyped]
    except ImportError:
        return model, flags
    try:
        data = cpuinfo.get_cpu_info()
    except (
        OSError,
        ValueError,
        RuntimeError,
        KeyError,
    ):  # it shells out and parses; a failure leaves no flags
        return model, flags
    model = data.get("brand_raw") or model
    raw = set(data.get("flags", []))
    flags = sorted({ours for theirs, ours in _LINUX_X86.items() if theirs in raw})
    return model, flags


def cpu_details() -> tuple[str, list[str], int | None, int | None]:
    """(model name, flags, physical cores, logical cores) for this machine."""
    import psutil

    system = platform.system()
    if system == "Linux":
        try:
            model, flags = parse_proc_cpuinfo(
                Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
            )
        except OSError:
            model, flags = "", []
    elif system == "Darwin":
        model, flags = _mac_details()
    elif system == "Windows":
        model, flags = _windows_details()
    else:
        model, flags = "", []
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    return model, flags, psutil.cpu_count(logical=False), psutil.cpu_count(logical=True) or os.cpu_count()
