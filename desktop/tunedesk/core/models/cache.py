"""GGUF base models made trainable: de-quantized once into a safetensors folder under paths.models_dir().

Training needs a float model that `AutoModelForCausalLM.from_pretrained(folder)` can load; a GGUF file is
quantized. transformers can read GGUF and de-quantize it, which takes seconds, so the result is kept in
``<models>/<gguf stem>-<digest>/`` (digest: of the file's contents, so an edited file gets a new folder).

Concurrency: each caller writes into its own temp folder beside the target, then renames it into place. A
rename onto a finished folder fails; the loser then throws its copy away and uses the winner's, so a reader
never sees a half-written folder. A lock file (where the OS has fcntl) spares the second caller the work.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.models.integrity import check_gguf, check_model_folder
from tunedesk.core.models.source import SOURCE_MARKER, ModelSource, resolve_model

SAMPLE_BYTES = 4 * 2**20
SAMPLES = 8


def gguf_digest(path: Path) -> str:
    """A short content digest that stays fast for multi-GB files: the size, the whole metadata header
    (first 4 MB) and 8 evenly spread 4 MB slices. Two different GGUFs sharing all of that do not occur."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        for i in range(SAMPLES + 1):
            fh.seek(min(size, i * max(size - SAMPLE_BYTES, 0) // SAMPLES))
            h.update(fh.read(SAMPLE_BYTES))
    return h.hexdigest()[:12]


def cache_folder(source: ModelSource, suffix: str = "") -> Path:
    from tunedesk.core.paths import models_dir

    return models_dir() / f"{source.path.stem}-{gguf_digest(source.path)}{suffix}"


def _complete(folder: Path) -> bool:
    return (folder / SOURCE_MARKER).is_file() and (folder / "config.json").is_file()


@contextlib.contextmanager
def _lock(target: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no lock; the rename protocol alone keeps the folder consistent
        yield
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _publish(tmp: Path, target: Path) -> Path:
    """Rename the finished temp folder into place, or keep the copy another process finished first."""
    try:
        os.rename(tmp, target)
    except OSError:
        if not _complete(target):
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _check_disk(folder: Path, need_mb: float) -> None:
    free = shutil.disk_usage(folder).free / 2**20
    if free < need_mb * 1.1:
        raise TuneDeskError(
            f"Not enough disk space to prepare the model: needs about {need_mb / 1024:.1f} GB, "
            f"{free / 1024:.1f} GB free in {folder}.",
            hint="Free some disk space, or set TUNEDESK_MODELS to a folder on a bigger disk.",
            kind="out_of_disk",
        )


def materialize(source: ModelSource, log: Callable[[str], Any] = print) -> Path:
    """A folder that `AutoModelForCausalLM.from_pretrained` loads (no gguf_file needed)."""
    if not source.is_gguf:
        check_model_folder(source.path)
        return source.path
    target = cache_folder(source)
    if _complete(target):
        return target
    with _lock(target):
        if _complete(target):  # another process finished while we waited for the lock
            return target
        from tunedesk.core.models.info import gguf_info

        check_gguf(source.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        _check_disk(target.parent, gguf_info(source).params * 4 / 2**20)
        log(f"Preparing {source.name} for training (de-quantizing the GGUF once; later runs reuse it)...")
        start = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            _dequantize_into(source, tmp)
            published = _publish(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log(f"Prepared {published} in {time.perf_counter() - start:.0f} s.")
    return published


def _dequantize_into(source: ModelSource, out: Path) -> None:
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(source.path.parent), source.path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except (ValueError, OSError, KeyError, NotImplementedError) as exc:
        raise TuneDeskError(
            f"transformers cannot load {source.path.name} for training: {exc}",
            hint="Use a GGUF of an architecture transformers supports (Llama, Qwen, Mistral, Gemma, Phi...), "
            "or the original Hugging Face folder of the model.",
            kind="bad_model",
            where={"file": str(source.path)},
        ) from None
    # transformers marks a GGUF-loaded model as quantized and then refuses to save it (FINDINGS); the
    # weights are plain float32 by now, so the marks are dropped.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)  # includes the chat template
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(out)
    marker = {
        "gguf": str(source.path),
        "digest": gguf_digest(source.path),
        "name": source.name,
        "created": time.time(),
        "transformers": transformers.__version__,
    }
    (out / SOURCE_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def load_tokenizer(ref: str | ModelSource) -> Any:
    """The model's tokenizer, quickly: for a GGUF straight from its metadata (cached), no de-quantizing."""
    from transformers import AutoTokenizer

    source = ref if isinstance(ref, ModelSource) else resolve_model(ref)
    if not source.is_gguf:
        return AutoTokenizer.from_pretrained(str(source.path))
    model_folder = cache_folder(source)
    if _complete(model_folder):
        return AutoTokenizer.from_pretrained(str(model_folder))
    tok_folder = cache_folder(source, "-tokenizer")
    if (tok_folder / "tokenizer_config.json").is_file():
        return AutoTokenizer.from_pretrained(str(tok_folder))
    tokenizer = AutoTokenizer.from_pretrained(str(source.path.parent), gguf_file=source.path.name)
    tok_folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{tok_folder.name}.", suffix=".tmp", dir=tok_folder.parent))
    try:
        tokenizer.save_pretrained(tmp)
        try:
            os.rename(tmp, tok_folder)
        except OSError:  # another process saved it first: theirs is identical
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tokenizer
