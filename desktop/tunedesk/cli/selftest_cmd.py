"""`tunedesk self-test [--json]`: does this installation work, start to finish, on this machine?

Five checks, each through the same code paths a user's work takes (worker subprocesses included, so a
frozen bundle re-enters itself exactly as it does for real work):

    hardware   the hardware probe (a worker subprocess importing torch)
    tools      llama.cpp's converter and the starter model are where this installation looks for them
    train      a few LoRA steps of the starter model on the sample data (`tunedesk train`, a worker)
    export     q8_0 GGUF export of that run with its verification (the export worker, the converter)
    chat       the exported GGUF answers one prompt (llama.cpp in this process)

A check that fails stops the ones that need it. The run lives in a temporary folder, so nothing is added
to the user's runs. ``--json`` prints ``{"passed", "checks": [{"name", "passed", "seconds", "detail"}],
...}``; the exit status is 0 only when every check passed. The installers' smoke test (packaging/) and
the GUI's Help > Check this installation run it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tunedesk import __version__
from tunedesk.cli.demo_cmd import Say, export_q8, train_on_sample
from tunedesk.cli.main import add_command, print_json
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.paths import bundle_dir

SELF_TEST_STEPS = 4
# Small and quick: the point is that training runs end to end, not that it learns.
SELF_TEST_SETTINGS = {
    "batch_size": "2",
    "grad_accum": "1",
    "learning_rate": "1e-3",
    "seq_len": "256",
    "val_max": "4",
    "eval_every": str(SELF_TEST_STEPS),
    "sample_prompts": "0",
    "early_stopping_patience": "0",
}
CHAT_PROMPT = "What is the capital of France? Answer in one sentence."


@dataclass
class Check:
    name: str
    passed: bool
    seconds: float
    detail: str


HELP = "check this installation: hardware, tools, a short training run, export and chat (minutes)"
DESCRIPTION = __doc__.split("\n\n")[0] if __doc__ else None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "self-test", run=run, help=HELP, description=DESCRIPTION)
    p.add_argument("--steps", type=int, default=SELF_TEST_STEPS, help="training steps (default %(default)s)")
    p.add_argument("--keep", metavar="DIR", help="keep the test run in DIR instead of a temporary folder")


def check_hardware(_work: Path, _steps: int) -> str:
    from tunedesk.core.hardware.probe import probe_hardware

    hw = probe_hardware(use_cache=False)
    return "; ".join([hw.summary(), *hw.notes])


def check_tools(_work: Path, _steps: int) -> str:
    from tunedesk.core.vendor import require_converter, require_starter

    return f"converter {require_converter()}, starter model {require_starter()}"


def check_train(work: Path, steps: int) -> str:
    finished = train_on_sample(
        work / "run", steps, Say(True), settings=SELF_TEST_SETTINGS, purpose="self-test"
    )
    if finished.get("steps") != steps or not Path(finished.get("adapter_path") or "").is_dir():
        raise TuneDeskError(
            f"Training ended after {finished.get('steps')} of {steps} steps without an adapter."
        )
    loss = finished.get("best_val_loss")
    return f"{steps} steps" + (f", validation loss {loss:.3f}" if isinstance(loss, float) else "")


def check_export(work: Path, _steps: int) -> str:
    exported = export_q8(work / "run", Say(True), prompts=2, purpose="self-test")
    verification = exported.get("verification") or {}
    if not verification.get("passed"):
        raise TuneDeskError(f"The exported GGUF did not pass its verification: {verification}")
    gguf = Path(exported["gguf_path"])
    return f"{gguf.name}, {gguf.stat().st_size / 2**20:.0f} MB, verified"


def check_chat(work: Path, _steps: int) -> str:
    from tunedesk.core.chat import ChatEngine

    gguf = next((work / "run").rglob("*-q8_0.gguf"), None)
    if gguf is None:
        raise TuneDeskError("No exported GGUF to chat with.")
    engine = ChatEngine(gguf, n_ctx=512)
    answer = engine.ask(CHAT_PROMPT, temperature=0.0, max_tokens=32).strip()
    if not answer:
        raise TuneDeskError("The model gave an empty answer.")
    from tunedesk.core.chat.llama_backends import cpu_variant

    variant = cpu_variant()  # which of the installer's CPU builds of llama.cpp this processor got
    return f"{CHAT_PROMPT!r} -> {answer!r}" + (f" (llama.cpp CPU code: {variant})" if variant else "")


CHECKS: list[tuple[str, Callable[[Path, int], str]]] = [
    ("hardware", check_hardware),
    ("tools", check_tools),
    ("train", check_train),
    ("export", check_export),
    ("chat", check_chat),
]


def run_checks(work: Path, steps: int, on_check: Callable[[Check], Any]) -> list[Check]:
    """Every check in order; after the first failure the rest are reported as skipped (not passed)."""
    results: list[Check] = []
    failed = False
    for name, check in CHECKS:
        if failed:
            result = Check(name, False, 0.0, "skipped: an earlier check failed")
        else:
            start = time.perf_counter()
            try:
                result = Check(name, True, 0.0, check(work, steps))
            except TuneDeskError as err:
                result = Check(name, False, 0.0, str(err))
            except Exception as exc:  # a broken install shows up here: report it, never a traceback
                result = Check(name, False, 0.0, f"{type(exc).__name__}: {exc}")
            result.seconds = round(time.perf_counter() - start, 1)
            failed = not result.passed
        results.append(result)
        on_check(result)
    return results


def _print_check(check: Check) -> None:
    mark = "ok  " if check.passed else "FAIL"
    print(f"[{mark}] {check.name:<9} {check.detail}  ({check.seconds:.0f} s)", flush=True)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if not args.json:
        print(f"TuneDesk {__version__} self-test (a few minutes on a laptop CPU)", flush=True)
    with tempfile.TemporaryDirectory(prefix="tunedesk-self-test-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        checks = run_checks(work, args.steps, (lambda _c: None) if args.json else _print_check)
    passed = all(c.passed for c in checks)
    report = {
        "passed": passed,
        "version": __version__,
        "frozen": bundle_dir() is not None,
        "executable": sys.executable,
        "checks": [asdict(c) for c in checks],
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print_json(report)
    else:
        verdict = "All checks passed." if passed else "Some checks FAILED (see above)."
        print(f"{verdict} ({report['seconds']:.0f} s)")
    return 0 if passed else 1
