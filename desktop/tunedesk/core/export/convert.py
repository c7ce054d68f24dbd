"""Hugging Face folder -> f16 GGUF with llama.cpp's own converter, run as a subprocess.

The converter brings its own, newer ``gguf`` package (vendor.py explains why it lives apart): its folder goes
first on PYTHONPATH so it imports that one, never the PyPI ``gguf`` that transformers uses in our process.
The output is written as ``*.partial`` and renamed only when the converter succeeded.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.launch import script_command, worker_env
from tunedesk.core.vendor import converter_dir, require_converter

_PERCENT = re.compile(r"Writing:\s+(\d+)%")
# The converter prints a line per tensor; only these reach the user's log (all of it is kept for errors).
_WORTH_LOGGING = re.compile(r"Model architecture|successfully exported|ERROR|Error|Traceback|WARNING")


def converter_env() -> dict[str, str]:
    env = worker_env()
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(converter_dir()), *parts])
    return env


def convert_to_gguf(
    model_dir: Path,
    out_file: Path,
    *,
    log: Callable[[str], Any] = print,
    progress: Callable[[float], Any] | None = None,
) -> Path:
    """Convert `model_dir` to an f16 GGUF at `out_file`; a TuneDeskError with the converter's words on failure."""
    script = require_converter()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    partial = out_file.with_name(out_file.name + ".partial")
    partial.unlink(missing_ok=True)
    cmd = script_command(str(script), "--outtype", "f16", "--outfile", str(partial), str(model_dir))
    tail: deque[str] = deque(maxlen=30)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=converter_env(),
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None
    # tqdm redraws with carriage returns: split on them too, so progress arrives as it happens.
    buf = ""
    while True:
        chunk = proc.stdout.read(256)
        if not chunk:
            break
        buf += chunk
        *lines, buf = re.split(r"[\r\n]", buf)
        for line in lines:
            line = line.strip()
            if not line:
                continue
            tail.append(line)
            m = _PERCENT.search(line)
            if m and progress:
                progress(int(m.group(1)) / 100)
            elif _WORTH_LOGGING.search(line):
                log(line)
    rc = proc.wait()
    if rc != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        detail = "\n".join(tail)
        raise TuneDeskError(
            f"llama.cpp's converter could not convert the merged model (exit status {rc}).",
            hint="The last lines of its output are in the details; an unsupported architecture or a missing "
            "tokenizer file are the usual causes.",
            kind="convert_failed",
            where={"folder": str(model_dir), "output": detail[-2000:]},
        )
    os.replace(partial, out_file)
    return out_file
