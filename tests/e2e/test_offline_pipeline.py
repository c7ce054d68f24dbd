"""Offline, proven end to end: doctor, data inspect, train (the tiny model, 2 steps), export (f16) and chat
one answer, each a real `tunedesk` subprocess inside a network namespace with no usable interface
(`unshare -n`: only a loopback that is down). Any attempt at the network would fail these commands; and
since a library may swallow that failure, every Python process of the pipeline (CLI, workers, the converter)
also records each socket connect, send, bind or name lookup it attempts, through an audit hook (PEP 578), and
none may be for anything but loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tunedesk.core.launch import cli_command, worker_env

pytestmark = pytest.mark.e2e


def _unshare_works() -> str | None:
    """None when `unshare -n` can make a network namespace here, else why not."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return "needs Linux's unshare (util-linux)"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return f"unshare -n is not allowed here (needs root or user namespaces): {probe.stderr.strip()}"
    return None


# Loaded by every Python process started with NETWATCH first on PYTHONPATH: notes the process, then each
# network attempt that is not for loopback (or a local socket file), whether or not it then fails.
SITECUSTOMIZE = """
import os, sys
_log = os.environ["TUNEDESK_TEST_NETLOG"]
_LOCAL = {"127.0.0.1", "::1", "localhost", "0.0.0.0", "", None}

def _note(line):
    with open(_log, "a", encoding="utf-8") as f:
        f.write(line + "\\n")

def _remote(address):
    if isinstance(address, (str, bytes)):  # a local (AF_UNIX) socket file
        return False
    host = address[0] if isinstance(address, tuple) and address else address
    return not (host in _LOCAL or (isinstance(host, str) and host.startswith("127.")))

def _hook(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.bind") and _remote(args[1]):
        _note(f"NET {os.getpid()} {event} {args[1]!r}")
    elif event == "socket.getaddrinfo" and _remote((args[0],)):
        _note(f"NET {os.getpid()} {event} {args[0]!r}")

_note(f"START {os.getpid()} {' '.join(sys.orig_argv)[:300]}")
sys.addaudithook(_hook)
"""


def offline(*args: str, timeout: float = 900, watch: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = worker_env()
    if watch is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(watch), env["PYTHONPATH"]])
        env["TUNEDESK_TEST_NETLOG"] = str(watch / "net.log")
    proc = subprocess.run(
        ["unshare", "-n", *cli_command(*args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module", autouse=True)
def namespace() -> None:
    reason = _unshare_works()
    if reason:
        pytest.skip(reason)


def test_the_namespace_really_has_no_network() -> None:
    """The proof below means something only if a connection fails in there without TuneDesk's guard."""
    code = "import socket; socket.create_connection(('1.1.1.1', 80), timeout=5)"
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0 and "Network is unreachable" in proc.stderr


def test_doctor_inspect_train_export_chat_without_a_network(
    tmp_path: Path, tiny_model_dir: Path, chat_jsonl: Path
) -> None:
    watch = tmp_path / "netwatch"
    watch.mkdir()
    (watch / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    doctor = offline(
        "doctor", "--model", str(tiny_model_dir), "--data", str(chat_jsonl), "--json", watch=watch
    )
    assert doctor.returncode == 0, doctor.stderr[-3000:]
    assert json.loads(doctor.stdout)["selection"]

    inspect = offline(
        "data", "inspect", str(chat_jsonl), "--model", str(tiny_model_dir), "--json", watch=watch
    )
    assert inspect.returncode == 0, inspect.stderr[-3000:]
    assert json.loads(inspect.stdout)["usable_rows"] == 48

    run = tmp_path / "run"
    train = offline(
        "train", "--model", str(tiny_model_dir), "--data", str(chat_jsonl), "--max-steps", "2", "--out", str(run),
        "--set", "eval_every=2", "--set", "sample_prompts=0", "--json", watch=watch,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-3000:]
    assert (run / "adapter").is_dir()

    export = offline("export", str(run), "--quant", "f16", "--json", watch=watch)
    assert export.returncode == 0, export.stderr[-3000:]
    (gguf,) = (run / "export").glob("*-f16.gguf")

    chat = offline("chat", str(gguf), "--prompt", "My laptop will not start.", "--max-tokens", "8",
                   "--temperature", "0", "--json", watch=watch)  # fmt: skip
    assert chat.returncode == 0, chat.stderr[-3000:]
    answer = json.loads(chat.stdout)
    assert isinstance(answer["answer"], str) and answer["tokens"] >= 1

    log = (watch / "net.log").read_text(encoding="utf-8").splitlines()
    started = " ".join(line for line in log if line.startswith("START"))
    # The hook was in every kind of process the pipeline starts, so finding nothing below means something.
    for program in (
        "tunedesk doctor",
        "tunedesk.worker train",
        "tunedesk.worker export",
        "convert_hf_to_gguf",
    ):
        assert program in started, (program, started[:2000])
    assert [line for line in log if line.startswith("NET")] == []
