"""The installer recipes in packaging/ are valid as files: the builds themselves take most of an hour and
run as their own scripts (packaging/linux/build.sh, packaging/ci/build-installers.yml), so CI checks that
each script parses, the spec and hook are Python, the workflow is YAML and the Inno Setup script is whole."""

from __future__ import annotations

import ast
import plistlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
SHELL_SCRIPTS = ["linux/build.sh", "linux/smoke.sh", "linux/cpu_variants.sh", "macos/build.sh"]


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_shell_scripts_parse_and_are_executable(script: str) -> None:
    path = PACKAGING / script
    proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    assert "set -euo pipefail" in path.read_text()


def _python(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_spec_is_python_and_names_what_it_needs() -> None:
    spec = PACKAGING / "tunedesk.spec"
    tree = _python(spec)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert {"Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"} <= called
    text = spec.read_text()
    assert '"tunedesk_entry.py"' in text and (PACKAGING / "tunedesk_entry.py").is_file()
    assert '"hooks"' in text and "TUNEDESK_BUNDLE_VENDOR" in text
    _python(PACKAGING / "tunedesk_entry.py")


def test_llama_cpp_hook_collects_its_shared_libraries() -> None:
    hook = PACKAGING / "hooks" / "hook-llama_cpp.py"
    tree = _python(hook)
    assigned = {
        t.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert {"binaries", "datas"} <= assigned
    assert 'collect_dynamic_libs("llama_cpp"' in hook.read_text()


def test_linux_build_is_portable_and_cpu_only() -> None:
    text = (PACKAGING / "linux" / "build.sh").read_text()
    assert "-DGGML_NATIVE=OFF" in text and "-DLLAVA_BUILD=OFF" in text
    # llama.cpp picks its CPU code at run time, from modules installed where the hook collects them
    assert "-DGGML_BACKEND_DL=ON" in text and "-DGGML_CPU_ALL_VARIANTS=ON" in text
    assert "-DCMAKE_INSTALL_BINDIR=llama_cpp/lib" in text
    assert "torch.version.cuda is not None" in text
    assert "dpkg-deb" in text and "fakeroot" in text and "/opt/tunedesk" in text
    assert "tunedesk_${VERSION}_amd64.deb" in text


def test_smoke_test_runs_clean_offline_and_checks_what_is_loaded() -> None:
    text = (PACKAGING / "linux" / "smoke.sh").read_text()
    for needle in (
        "dpkg-deb -x",
        "env -i",
        "unshare -n",
        "self-test --json",
        "Xvfb",
        "/proc/$pid/maps",
        "strace",
    ):
        assert needle in text, needle


def test_workflow_builds_all_three() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((PACKAGING / "ci" / "build-installers.yml").read_text())
    jobs = workflow["jobs"]
    assert {"linux", "macos", "windows"} <= set(jobs)
    runs = {name: " ".join(str(s.get("run", "")) for s in job["steps"]) for name, job in jobs.items()}
    assert "packaging/linux/build.sh" in runs["linux"] and "smoke.sh" in runs["linux"]
    assert "cpu_variants.sh" in runs["linux"]
    assert "packaging/macos/build.sh" in runs["macos"]
    assert "packaging/windows/build.ps1" in runs["windows"]


def test_inno_setup_script_is_whole() -> None:
    text = (PACKAGING / "windows" / "tunedesk.iss").read_text()
    sections = set(re.findall(r"^\[(\w+)\]", text, flags=re.M))
    assert {"Setup", "Files", "Icons", "Run"} <= sections
    setup = text.split("[Setup]", 1)[1].split("\n[", 1)[0]
    for key in (
        "AppId",
        "AppName",
        "AppVersion",
        "DefaultDirName",
        "OutputBaseFilename",
        "ArchitecturesAllowed",
    ):
        assert re.search(rf"^{key}=", setup, flags=re.M), key
    assert "recursesubdirs" in text and "TuneDesk.exe" in text


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="PowerShell is not installed here")
def test_windows_build_script_parses() -> None:
    script = PACKAGING / "windows" / "build.ps1"
    code = f"$null = [System.Management.Automation.Language.Parser]::ParseFile('{script}', [ref]$null, [ref]$e); exit $e.Count"
    assert subprocess.run(["pwsh", "-NoProfile", "-Command", code]).returncode == 0


def test_macos_entitlements_are_a_plist() -> None:
    with open(PACKAGING / "macos" / "entitlements.plist", "rb") as fh:
        assert plistlib.load(fh)["com.apple.security.cs.allow-jit"] is True
