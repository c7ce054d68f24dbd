"""A plain `pip install .` (a wheel, no checkout around it) finds resources/: presets, sample data, the general
prompts and the icons travel as the wheel's data files and core/paths.py looks for them under the prefix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import json
from tunedesk.core.paths import resources_dir, sample_dataset
import tunedesk
print(tunedesk.__file__)
print(resources_dir())
print(json.dumps(sorted(str(p.relative_to(resources_dir())) for p in resources_dir().rglob("*") if p.is_file())))
"""


def test_a_wheel_install_finds_every_resource_the_app_reads(tmp_path: Path) -> None:
    dist, src = tmp_path / "dist", tmp_path / "src"
    # Built from a copy: setuptools writes its build/ and egg-info beside the sources it builds.
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("desktop", "resources"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(dist),
        str(src),
    ]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("tunedesk-*.whl")
    venv = tmp_path / "venv"
    # The test environment's packages are seen through --system-site-packages; tunedesk itself comes from
    # the wheel, which the venv's own site-packages put first.
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing but the wheel's tunedesk
    # --force-reinstall: pip would take the test environment's own (editable) tunedesk for this one.
    install = [python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)]
    subprocess.run(install, check=True, timeout=300, env=env)
    out = subprocess.run(
        [python, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    package, resources, files = out.stdout.strip().splitlines()
    assert package.startswith(str(venv)) and resources.startswith(str(venv)), out.stdout
    wanted = sorted(
        str(p.relative_to(REPO / "resources"))
        for p in (REPO / "resources").rglob("*")
        if p.is_file() and p.suffix != ".py"  # the generators of the sample data stay in the checkout
    )
    assert json.loads(files) == wanted
