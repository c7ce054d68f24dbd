"""Where TuneDesk keeps its files.

Everything lives under one data home so a user can find, back up or delete it in one place:

    <home>/runs/<run-id>/    one folder per training run (see runs.py for its layout)
    <home>/models/           GGUF base models de-quantized once into safetensors folders
    <home>/vendor/           llama.cpp's converter and the starter model, installed by `tunedesk setup`
    <home>/cache/            small caches (the hardware probe)
    <home>/reports/          runs compared side by side (the Runs page's Compare)

TUNEDESK_HOME moves the whole home (tests point it at a temp folder); TUNEDESK_VENDOR moves only the
vendor folder and TUNEDESK_MODELS the de-quantized models, so tests can share them across temp homes.

A frozen installer bundle (PyInstaller sets ``sys.frozen`` and ``sys._MEIPASS``) carries its own
``vendor/`` and ``resources/`` folders: those are used instead, so an installed app needs no
`tunedesk setup` and no network (packaging/README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs


def data_home() -> Path:
    env = os.environ.get("TUNEDESK_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("tunedesk", appauthor=False))


def runs_dir() -> Path:
    return data_home() / "runs"


def models_dir() -> Path:
    env = os.environ.get("TUNEDESK_MODELS")
    return Path(env).expanduser() if env else data_home() / "models"


def cache_dir() -> Path:
    return data_home() / "cache"


def reports_dir() -> Path:
    return data_home() / "reports"


def bundle_dir() -> Path | None:
    """The frozen bundle's data folder (PyInstaller's ``sys._MEIPASS``), or None when running from source."""
    if not getattr(sys, "frozen", False):
        return None
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) if base else Path(sys.executable).resolve().parent


def vendor_dir() -> Path:
    env = os.environ.get("TUNEDESK_VENDOR")
    if env:
        return Path(env).expanduser()
    bundle = bundle_dir()
    return bundle / "vendor" if bundle else data_home() / "vendor"


def resources_dir() -> Path:
    """The repository's (or the frozen bundle's) resources/ folder."""
    env = os.environ.get("TUNEDESK_RESOURCES")
    if env:
        return Path(env)
    bundle = bundle_dir()
    if bundle:
        return bundle / "resources"
    here = Path(__file__).resolve()
    # Source checkout / editable install: <repo>/desktop/tunedesk/core/paths.py -> <repo>/resources
    candidate = here.parents[3] / "resources"
    if candidate.is_dir():
        return candidate
    # Wheel install (`pip install .`): pyproject's data-files put them under the environment's prefix.
    return Path(sys.prefix) / "share" / "tunedesk" / "resources"


def sample_dataset() -> Path:
    return resources_dir() / "sample_data" / "support_summaries.jsonl"


def file_locations() -> list[tuple[str, Path]]:
    """Where each kind of file is kept, in plain words: for the Help menu and `tunedesk doctor`."""
    return [
        ("Everything TuneDesk keeps", data_home()),
        ("Training runs (settings, progress, checkpoints, adapters, exports)", runs_dir()),
        ("Base models made trainable, and base models at an export's quantization", models_dir()),
        ("The starter model and llama.cpp's converter", vendor_dir()),
    ]
