"""`tunedesk --run-script SCRIPT ARGS` (core/launch.py): how a frozen bundle runs llama.cpp's converter,
which is a script shipped as a file with its own `gguf` package beside it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tunedesk.core import launch

SCRIPT = """
import sys, gguf
print(gguf.__file__)
print(" ".join(sys.argv[1:]))
raise SystemExit(int(sys.argv[1]))
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    folder = tmp_path / "converter"
    (folder / "gguf").mkdir(parents=True)
    (folder / "gguf" / "__init__.py").write_text("")
    path = folder / "convert.py"
    path.write_text(SCRIPT)
    return path


@pytest.mark.parametrize("code", [0, 3])
def test_run_script_through_the_entry_point(script: Path, code: int) -> None:
    # The same argv a frozen bundle gets (`tunedesk --run-script ...`), given to the real entry point.
    proc = subprocess.run(
        [sys.executable, "-m", "tunedesk", launch.SCRIPT_FLAG, str(script), str(code), "--outtype", "f16"],
        capture_output=True,
        text=True,
        env=launch.worker_env(),
        timeout=300,
    )
    assert proc.returncode == code, proc.stderr
    gguf_file, argv = proc.stdout.strip().splitlines()
    # The script's own gguf wins over PyPI's gguf, which is installed in this environment.
    assert Path(gguf_file).parent == script.parent / "gguf"
    assert argv == f"{code} --outtype f16"


def test_script_command_source_and_frozen(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert launch.script_command(str(script), "a") == [sys.executable, str(script), "a"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert launch.script_command(str(script), "a") == [sys.executable, launch.SCRIPT_FLAG, str(script), "a"]
