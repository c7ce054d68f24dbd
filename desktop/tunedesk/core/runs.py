"""A training run's folder: its layout, its config, and its status read back from its events.

Layout of ``<runs>/<run-id>/`` (documented for users in README.md):

    config.json            everything needed to reproduce the run (RunConfig)
    events.jsonl           every protocol event the worker emitted, in order
    worker.log             the worker's log (also on its stderr)
    stderr.log             the worker's stderr when the app started it detached (a hard crash's traceback)
    worker.pid             present while a worker runs this folder: {"pid", "host", "started"}
    control                a control file the GUI/CLI may write: pause | resume | cancel
    data/                  the prepared split: train.jsonl, val.jsonl (so a resume sees the same data)
    checkpoints/step-N/    adapter + optimizer + scheduler + RNG + trainer state, written atomically
    best/                  copy of the checkpoint with the lowest validation loss
    adapter/               the final adapter in peft's standard format (PeftModel.from_pretrained)
    export/                merged model, GGUF files, Modelfile, verification report (export step)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.confine import check_relative, check_run_folder
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import read_events
from tunedesk.core.settings_file import read_settings_file

CONFIG_VERSION = 1
_FIELD_TYPES = {"model": str, "data": str, "device": str, "name": str, "data_sha256": str, "notes": str}
_FIELD_TYPES.update(allow_pickle=bool, trust_remote_code=bool)
_TYPE_WORDS = {str: "text", bool: "true or false"}


@dataclass
class RunConfig:
    """What the worker needs to train: written by the CLI/GUI, read by `python -m tunedesk.worker train RUN`."""

    model: str  # what the user asked for: "starter", a folder, a .gguf file, or a Hugging Face cache id
    data: str  # path of the user's dataset file or folder
    preset: Preset = field(default_factory=Preset)
    device: str = "auto"  # auto | cpu | cuda | mps
    name: str = ""  # a human name for the run
    data_sha256: str = ""
    notes: str = ""
    # Off unless the user explicitly asked: pickle weights can run code, and so can remote model code.
    allow_pickle: bool = False
    trust_remote_code: bool = False
    # Data-parallel processes on this machine (`tunedesk train --processes N`); a resume uses as many again,
    # since a step's global batch is batch_size x processes (core/training/distributed.py).
    processes: int = 1
    version: int = CONFIG_VERSION

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["preset"] = self.preset.to_dict()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config.json") -> RunConfig:
        problem = _config_problem(data, {f.name for f in dataclasses.fields(cls)})
        if problem:
            message, hint, name = problem
            where = {"file": source, "field": name} if name else {"file": source}
            raise TuneDeskError(message, hint=hint, kind="bad_config", where=where)
        kwargs = {k: v for k, v in data.items() if k != "preset"}
        return cls(preset=Preset.from_dict(data.get("preset") or {}, source=f"{source}: preset"), **kwargs)

    def digest(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _config_problem(data: Any, known: set[str]) -> tuple[str, str, str] | None:
    """The first thing wrong in a run's config.json as (message, hint, field), or None: read in this order, so
    the message names the most basic problem first."""
    if not isinstance(data, dict):
        return "The run's config is not a JSON object.", "Recreate the run.", ""
    missing = [k for k in ("model", "data") if not data.get(k)]
    if missing:
        hint = "Recreate the run with `tunedesk train --model M --data F`."
        return f"The run's config has no {' or '.join(missing)}.", hint, missing[0]
    version = data.get("version", CONFIG_VERSION)
    if version != CONFIG_VERSION:
        message = f"The run's config has version {version}; this TuneDesk reads version {CONFIG_VERSION}."
        return message, "Open it with the TuneDesk version that created it.", "version"
    unknown = sorted(set(data) - known)
    if unknown:
        return (
            f"The run's config has unknown field(s): {', '.join(unknown)}.",
            "Remove them from config.json.",
            unknown[0],
        )
    for name, kind in _FIELD_TYPES.items():
        if name in data and not isinstance(data[name], kind):
            message = (
                f"'{name}' in the run's config must be {_TYPE_WORDS[kind]}, not {repr(data[name])[:80]}."
            )
            return message, "Fix config.json, or recreate the run.", name
    if not isinstance(data.get("preset") or {}, dict):
        hint = 'Write it as {"field": value, ...}, or remove it to use the defaults.'
        return "'preset' in the config must be an object.", hint, "preset"
    processes = data.get("processes", 1)
    if not isinstance(processes, int) or isinstance(processes, bool) or processes < 1:
        message = f"'processes' in the run's config must be a whole number of at least 1, not {processes!r}."
        return message, "Set it to 1 (one process) or the number of processes to train with.", "processes"
    return None


class _InRun:
    """A file or folder at a fixed name inside the run folder: `layout.events` is `layout.root / "events.jsonl"`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, layout: RunLayout | None, owner: type | None = None) -> Any:
        return self if layout is None else layout.root / self.name


@dataclass
class RunLayout:
    """Where each part of a run lives in its folder (the module docstring says what each holds)."""

    root: Path
    config = _InRun("config.json")
    events = _InRun("events.jsonl")
    log = _InRun("worker.log")
    pid = _InRun("worker.pid")
    control = _InRun("control")
    data = _InRun("data")
    checkpoints = _InRun("checkpoints")
    best = _InRun("best")
    adapter = _InRun("adapter")
    export = _InRun("export")

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"step-{step}"


def new_run_id(name: str = "") -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40]
    return f"{stamp}-{slug}" if slug else stamp


def create_run(config: RunConfig, out: str | Path | None = None) -> RunLayout:
    """Make a run folder and write its config.json (atomically). `out` defaults to a new folder under runs_dir().

    The data's digest is taken here when the config has none, so every run records which data it learned from.
    """
    from tunedesk.core.paths import runs_dir

    if not config.data_sha256 and Path(config.data).exists():
        config = dataclasses.replace(config, data_sha256=file_sha256(config.data))

    root = Path(out) if out else runs_dir() / new_run_id(config.name or Path(config.data).stem)
    if root.exists() and any(root.iterdir()):
        raise TuneDeskError(
            f"The run folder {root} already exists and is not empty.",
            hint="Choose another --out, or `tunedesk resume` that run.",
            kind="run_exists",
            where={"folder": str(root)},
        )
    root.mkdir(parents=True, exist_ok=True)
    layout = RunLayout(root)
    write_json_atomic(layout.config, config.to_dict())
    return layout


def load_config(run_dir: str | Path) -> RunConfig:
    layout = RunLayout(Path(run_dir))
    missing = f"{layout.config} does not exist: {run_dir} is not a TuneDesk run folder."
    not_a_run = (missing, "Pick a folder listed by `tunedesk runs`.")
    data = read_settings_file(
        layout.config, "JSON", "bad_config", not_a_run, "Fix or recreate the run's config.json."
    )
    config = RunConfig.from_dict(data, source=str(layout.config))
    check_run_folder(layout.root)  # a run folder from elsewhere: nothing it holds may lead out of it
    check_relative(layout.root, config.data, "data")
    return config


def worker_alive(layout: RunLayout) -> bool:
    """True when a worker process recorded in worker.pid is still running."""
    try:
        info = json.loads(layout.pid.read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """True while process `pid` runs. A process we may not inspect (AccessDenied) exists, so it counts as alive."""
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.AccessDenied:
        return True
    except (psutil.NoSuchProcess, ValueError):
        return False


@dataclass
class RunSummary:
    path: Path
    name: str
    model: str
    data: str
    status: str  # new | running | completed | cancelled | early_stopped | failed | crashed | paused
    step: int = 0
    total_steps: int = 0
    best_val_loss: float | None = None
    base_val_loss: float | None = None
    created: float = 0.0
    resumable: bool = False
    has_adapter: bool = False
    forgetting: dict[str, Any] | None = None  # the finished event's measure (core/report/verdict.py words it)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["path"] = str(self.path)
        return d


def summarize_run(run_dir: str | Path) -> RunSummary:
    layout = RunLayout(Path(run_dir))
    try:
        cfg = json.loads(layout.config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cfg = {}
    events = read_events(layout.events)
    step = total = 0
    best = base = forgetting = None
    status = "new"
    for ev in events:
        kind = ev["event"]
        if kind == "started":
            total = ev.get("total_steps", total)
            status = "running"
        elif kind == "step":
            step = ev.get("step", step)
            total = ev.get("total_steps", total)
        elif kind == "eval":
            if ev.get("step") == 0 or base is None and ev.get("is_base"):
                base = ev.get("val_loss")
            if ev.get("best_val_loss") is not None:
                best = ev["best_val_loss"]
        elif kind == "paused":
            status = "paused"
        elif kind == "resumed":
            status = "running"
        elif kind == "finished":
            status = ev["status"]
            best = ev.get("best_val_loss", best)
            forgetting = ev.get("forgetting")
        elif kind == "error":
            status = "failed"
    if status in ("running", "paused") and not worker_alive(layout):
        status = "crashed"
    has_ckpt = layout.checkpoints.is_dir() and any(layout.checkpoints.glob("step-*"))
    # A run stopped before its first checkpoint still resumes: it restarts from its stored split.
    resumable = status in ("crashed", "cancelled", "new") or (status == "failed" and has_ckpt)
    return RunSummary(
        path=layout.root,
        name=cfg.get("name") or layout.root.name,
        model=str(cfg.get("model", "?")),
        data=str(cfg.get("data", "?")),
        status=status,
        step=step,
        total_steps=total,
        best_val_loss=best,
        base_val_loss=base,
        created=layout.root.stat().st_mtime if layout.root.exists() else 0.0,
        resumable=resumable,
        has_adapter=(layout.adapter / "adapter_config.json").exists(),
        forgetting=forgetting,
    )


def list_runs(root: str | Path | None = None) -> list[RunSummary]:
    from tunedesk.core.paths import runs_dir

    base = Path(root) if root else runs_dir()
    if not base.is_dir():
        return []
    found = [summarize_run(p) for p in base.iterdir() if (p / "config.json").is_file()]
    return sorted(found, key=lambda r: r.created, reverse=True)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    p = Path(path)
    files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
    for q in files:
        h.update(q.name.encode())
        with open(q, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def pid_info() -> dict[str, Any]:
    import socket

    return {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
