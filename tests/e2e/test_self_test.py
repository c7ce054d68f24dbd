"""`tunedesk self-test`: the installers' smoke test and Help > Check this installation. One real run on the
starter model (two training steps), and one on an installation whose tools are missing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tunedesk.core.launch import cli_command, worker_env

pytestmark = pytest.mark.e2e

CHECK_NAMES = ["hardware", "tools", "train", "export", "chat"]


def _self_test(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    proc = subprocess.run(
        cli_command("self-test", "--json", *args),
        capture_output=True,
        text=True,
        env=env or worker_env(),
        timeout=1800,
    )
    assert proc.stdout.lstrip().startswith("{"), proc.stderr[-3000:]
    return proc.returncode, json.loads(proc.stdout)


def test_self_test_passes_on_a_working_installation(tmp_path: Path) -> None:
    rc, report = _self_test("--steps", "2", "--keep", str(tmp_path / "kept"))
    assert rc == 0 and report["passed"] is True, json.dumps(report, indent=1)
    assert [c["name"] for c in report["checks"]] == CHECK_NAMES
    assert all(c["passed"] for c in report["checks"])
    assert report["frozen"] is False
    chat = report["checks"][-1]["detail"]
    assert "->" in chat and chat.split("->", 1)[1].strip(" '\"")
    # The run and its verified GGUF stayed where --keep put them, not among the user's runs.
    assert list((tmp_path / "kept" / "run").rglob("*-q8_0.gguf"))
    assert json.loads(next((tmp_path / "kept").rglob("verification.json")).read_text())["passed"]


def test_self_test_fails_clearly_when_the_tools_are_missing(tmp_path: Path) -> None:
    env = worker_env()
    env["TUNEDESK_VENDOR"] = str(tmp_path / "empty-vendor")
    rc, report = _self_test(env=env)
    assert rc == 1 and report["passed"] is False
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["hardware"]["passed"]
    assert not checks["tools"]["passed"] and "not installed" in checks["tools"]["detail"]
    for name in ("train", "export", "chat"):
        assert not checks[name]["passed"] and checks[name]["detail"].startswith("skipped")
