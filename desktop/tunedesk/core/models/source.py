"""Base models: what a user may name with ``--model``, found on this machine only (never downloaded).

Accepted references:
    "starter"             the embedded default (SmolLM2-135M-Instruct GGUF, see vendor.py)
    a folder              a Hugging Face model folder: config.json + *.safetensors + tokenizer files
    a .gguf file          de-quantized once into a safetensors folder by `materialize` (cache.py)
    "org/name"            a model already in the local Hugging Face cache (HF_HUB_CACHE, HF_HOME/hub,
                          ~/.cache/huggingface/hub), as left there by an earlier download

Safety: weights are loaded from safetensors only; pickle weights (.bin/.pt/.pth run code when loaded) are
refused unless the caller passes ``allow_pickle=True``, and a config that needs the model's own Python code
(``auto_map``) is refused unless the caller passes ``trust_remote_code=True``. Neither is ever on silently.

Details live beside this module: info.py (`model_info`), cache.py (`materialize`,
`load_tokenizer`), exportability.py (what llama.cpp's converter supports).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tunedesk.core import json_text
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.vendor import SETUP_HINT, STARTER_NAME, starter_gguf

KINDS = ("starter", "folder", "gguf", "hf_cache", "dequantized")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
SOURCE_MARKER = "tunedesk-source.json"  # written into each de-quantized GGUF folder (cache.py)


@dataclass
class ModelSource:
    kind: str  # one of KINDS
    ref: str  # what the user asked for
    path: Path  # a model folder, or the .gguf file for kinds starter/gguf
    name: str  # for display
    allow_pickle: bool = False
    trust_remote_code: bool = False

    @property
    def is_gguf(self) -> bool:
        return self.path.suffix.lower() == ".gguf"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSource:
        return cls(**{**d, "path": Path(d["path"])})


# ---- the local Hugging Face cache -------------------------------------------------------------------
def hf_cache_dirs() -> list[Path]:
    """Where huggingface_hub keeps downloads, in its own order of precedence (duplicates dropped)."""
    dirs: list[Path] = []
    if os.environ.get("HF_HUB_CACHE"):
        dirs.append(Path(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HF_HOME"):
        dirs.append(Path(os.environ["HF_HOME"]) / "hub")
    dirs.append(Path.home() / ".cache" / "huggingface" / "hub")
    out: list[Path] = []
    for d in dirs:
        d = d.expanduser()
        if d not in out:
            out.append(d)
    return out


def _snapshot(repo_dir: Path) -> Path | None:
    """The snapshot `refs/main` points at, else the newest snapshot that has a config.json."""
    snaps = repo_dir / "snapshots"
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        pinned = snaps / ref.read_text(encoding="utf-8").strip()
        if (pinned / "config.json").is_file():
            return pinned
    candidates = [s for s in snaps.glob("*") if (s / "config.json").is_file()]
    return max(candidates, key=lambda s: s.stat().st_mtime) if candidates else None


def hf_cache_models() -> dict[str, Path]:
    """model id ("org/name") -> snapshot folder, for every cached model with a config.json."""
    found: dict[str, Path] = {}
    for cache in hf_cache_dirs():
        if not cache.is_dir():
            continue
        for repo_dir in sorted(cache.glob("models--*")):
            model_id = repo_dir.name[len("models--") :].replace("--", "/", 1)
            snap = _snapshot(repo_dir)
            if snap is not None and model_id not in found:
                found[model_id] = snap
    return found


def dequantized_models(hide_copies_of: tuple[Path, ...] = ()) -> list[ModelSource]:
    """The de-quantized GGUF folders, except copies of the GGUFs in `hide_copies_of` (listed themselves)."""
    from tunedesk.core.paths import models_dir

    hidden = {_resolved(p) for p in hide_copies_of}
    out = []
    root = models_dir()
    for marker in sorted(root.glob(f"*/{SOURCE_MARKER}")) if root.is_dir() else []:
        folder = marker.parent
        try:
            meta = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _resolved(Path(str(meta.get("gguf", "")))) in hidden:
            continue
        if (folder / "config.json").is_file():
            label = f"{meta.get('name', folder.name)} (de-quantized from {Path(meta.get('gguf', '?')).name})"
            out.append(ModelSource("dequantized", str(folder), folder, label))
    return out


def list_local_models() -> list[ModelSource]:
    """Everything the model picker can offer without a download: starter, HF cache, de-quantized GGUFs (each
    model once: a de-quantized copy of the starter is not listed beside it)."""
    out: list[ModelSource] = []
    starter = starter_gguf()
    if starter is not None:
        out.append(ModelSource("starter", "starter", starter, STARTER_NAME))
    out += [ModelSource("hf_cache", mid, snap, mid) for mid, snap in sorted(hf_cache_models().items())]
    # The starter's de-quantized copy is how it trains, not a second model: the picker shows the starter once.
    out += dequantized_models(hide_copies_of=(starter,) if starter is not None else ())
    return out


def _resolved(path: Path) -> Path:
    try:
        return path.expanduser().resolve()
    except OSError:
        return path


# ---- safety ----------------------------------------------------------------------------------------
# The consents a model may need (RunConfig's fields of the same names), each with its risk in one plain line.
CONSENT_RISKS = {
    "allow_pickle": "Its weights are pickle files (.bin/.pt): loading them runs any code hidden inside them.",
    "trust_remote_code": "It loads through its own Python code: that code runs on this computer with your "
    "rights.",
}
CONSENT_SHOWN = {"allow_pickle": "pickle weights allowed", "trust_remote_code": "its own code allowed"}
# The refusal's hint for someone in the app, where the CLI's flags do not exist.
GUI_CONSENT_HINT = (
    "Use a copy of the model in safetensors format, or, if you trust its source completely, tick "
    "\u201cI trust this model's files\u201d under Base model on the Machine & model page."
)


def needed_consents(info: dict[str, Any]) -> list[str]:
    """The consents (keys of CONSENT_RISKS) a model needs before it trains, from its ModelInfo.to_dict()."""
    needs = ["allow_pickle"] if info.get("weights_format") == "pickle" else []
    return needs + (["trust_remote_code"] if info.get("needs_trust_remote_code") else [])


def weight_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(safetensors files, pickle files) in a model folder."""
    safe = sorted(folder.glob("*.safetensors"))
    pickled = sorted(p for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES and p.is_file())
    return safe, pickled


def _refused(folder: Path, kind: str, message: str, hint: str) -> TuneDeskError:
    """Why the model folder cannot be used, pointing at the folder."""
    return TuneDeskError(message, hint=hint, kind=kind, where={"folder": str(folder)})


def check_folder(folder: Path, *, allow_pickle: bool, trust_remote_code: bool) -> None:
    """Refuse a folder that is not a model, that only has pickle weights, or that needs remote code."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise _refused(
            folder,
            "missing_model",
            f"{folder} is not a Hugging Face model folder: it has no config.json.",
            "Point --model at the folder that holds config.json, *.safetensors and the tokenizer files.",
        )
    try:
        config = json_text.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TuneDeskError(
            f"{config_path} is not valid JSON: {exc}.", hint="Re-copy the model folder.", kind="bad_model"
        ) from None
    safe, pickled = weight_files(folder)
    if not safe and not pickled:
        raise _refused(
            folder,
            "missing_model",
            f"{folder} has a config.json but no weight files (*.safetensors).",
            "Copy the model's *.safetensors files into the folder too.",
        )
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise _refused(
            folder,
            "missing_model",
            f"{folder} has weights but no tokenizer files ({', '.join(TOKENIZER_FILES[:2])}...).",
            "Copy the tokenizer files that came with the model into the folder too.",
        )
    if not safe and not allow_pickle:
        raise _refused(
            folder,
            "unsafe_model",
            f"{folder} only has pickle weights ({', '.join(p.name for p in pickled[:3])}). Loading a pickle "
            "runs any code hidden in it, so TuneDesk refuses it by default.",
            "Use a copy of the model in safetensors format, or, if you trust its source completely, "
            "allow pickle explicitly (--allow-pickle).",
        )
    if config.get("auto_map") and not trust_remote_code:
        raise _refused(
            folder,
            "unsafe_model",
            f"{folder} needs its own Python code to load (its config.json has 'auto_map'). TuneDesk does "
            "not run code that comes with a model unless you say so.",
            "Pick a model that transformers supports natively, or, if you trust its source completely, "
            "pass --trust-remote-code.",
        )


# ---- resolution ------------------------------------------------------------------------------------
def _unknown(ref: str, why: str) -> TuneDeskError:
    local = list_local_models()
    names = [m.ref if m.kind != "dequantized" else m.path.name for m in local]
    close = difflib.get_close_matches(ref, names, n=3, cutoff=0.5)
    found = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "") if names else "none"
    hint = (f"Did you mean {', '.join(close)}? " if close else "") + (
        f"Models found on this machine: {found}. You can also give a model folder "
        "(config.json + *.safetensors) or a .gguf file. TuneDesk never downloads models"
    )
    if re.fullmatch(r"[\w.-]+(/[\w.-]+)?", ref) and not ref.lower().endswith(".gguf"):
        hint += (
            f"; to use a Hugging Face model, download it once while online: huggingface-cli download {ref}."
        )
    else:
        hint += "."
    return TuneDeskError(f"Model '{ref}' {why}.", hint=hint, kind="missing_model", where={"model": ref})


def resolve_model(ref: str, *, allow_pickle: bool = False, trust_remote_code: bool = False) -> ModelSource:
    """Turn what the user typed into a ModelSource, or raise a TuneDeskError that lists what is available."""
    ref = str(ref).strip()
    if not ref:
        raise _unknown(ref, "is empty")
    flags = {"allow_pickle": allow_pickle, "trust_remote_code": trust_remote_code}
    if ref.lower() == "starter":
        path = starter_gguf()
        if path is None:
            raise TuneDeskError(
                f"The starter model ({STARTER_NAME}) is not installed.", hint=SETUP_HINT, kind="missing_model"
            )
        return ModelSource("starter", "starter", path, STARTER_NAME, **flags)
    path = Path(ref).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise TuneDeskError(
                f"{path} is a file but not a .gguf model.",
                hint="Give a .gguf file, or the folder that holds config.json and the *.safetensors files.",
                kind="missing_model",
                where={"model": ref},
            )
        return ModelSource("gguf", ref, path.resolve(), path.stem, **flags)
    if path.is_dir():
        folder = path.resolve()
        if folder.name.startswith("models--"):  # a Hugging Face cache entry given as a folder
            folder = _snapshot(folder) or folder
        if not (folder / "config.json").is_file():
            ggufs = sorted(folder.glob("*.gguf"))
            if len(ggufs) == 1:
                return ModelSource("gguf", ref, ggufs[0], ggufs[0].stem, **flags)
        check_folder(folder, **flags)
        kind = "dequantized" if (folder / SOURCE_MARKER).is_file() else "folder"
        return ModelSource(kind, ref, folder, folder.name, **flags)
    looks_like_path = ref.startswith(("/", ".", "~")) or ref.count("/") > 1 or "\\" in ref or ":" in ref
    if looks_like_path or ref.lower().endswith(".gguf"):
        raise _unknown(ref, f"does not exist (no file or folder at {path.absolute()})")
    cached = hf_cache_models()
    if ref in cached:
        check_folder(cached[ref], **flags)
        return ModelSource("hf_cache", ref, cached[ref], ref, **flags)
    lowered = {k.lower(): k for k in cached}
    if ref.lower() in lowered:
        real = lowered[ref.lower()]
        check_folder(cached[real], **flags)
        return ModelSource("hf_cache", real, cached[real], real, **flags)
    for deq in dequantized_models():  # a de-quantized GGUF by its folder name, as the picker lists it
        if deq.path.name == ref:
            return ModelSource("dequantized", ref, deq.path, deq.name, **flags)
    raise _unknown(ref, "is not a file, a folder, or a model in the local Hugging Face cache")
