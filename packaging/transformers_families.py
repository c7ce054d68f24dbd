"""Which transformers model families the bundle keeps (used by tunedesk.spec, tested by
tests/unit/test_transformers_families.py).

transformers loads model code lazily by name, which PyInstaller cannot follow; and transformers/models/
__init__.py names all ~550 families under TYPE_CHECKING, which PyInstaller does follow (43 MB of sources). The
bundle keeps the families TuneDesk can load and export, and every family imported by them or by the rest of
transformers (its GGUF and integration modules import some families directly); the spec excludes the others.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

MODELS_DIR = Path(importlib.util.find_spec("transformers.models").submodule_search_locations[0])
# Families users commonly fine-tune, beyond those TuneDesk reads from GGUF (core/models/info.py: GGUF_ARCHS).
COMMON = {"auto", "llama", "mistral", "qwen2", "qwen3", "phi", "phi3", "gemma", "gemma2", "gemma3", "smollm3",
          "granite", "olmo2", "stablelm", "gpt2", "gpt_neox", "starcoder2"}


def _is_family(name: str) -> bool:
    return (MODELS_DIR / name / "__init__.py").is_file()


def families_imported_by(py: Path) -> set[str]:
    """The model families a transformers source file imports (relative or absolute imports)."""
    package = py.relative_to(MODELS_DIR.parent.parent).with_suffix("").parts[:-1]  # ("transformers", ...)
    found = set()
    for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"), str(py))):
        if not isinstance(node, ast.ImportFrom):
            continue
        base = list(package[: len(package) - node.level + 1]) if node.level else []
        target = base + (node.module.split(".") if node.module else [])
        names = [target] if node.module else [target + [a.name] for a in node.names]
        for parts in names:
            if parts[:2] == ["transformers", "models"] and len(parts) > 2:
                found.add(parts[2])
    return {f for f in found if _is_family(f)}


def kept_families(gguf_archs: dict[str, tuple[str, str]]) -> set[str]:
    wanted = {mt for mt, _cls in gguf_archs.values()}
    wanted |= {mt.removesuffix("_text") for mt in wanted} | COMMON
    todo = [name for name in wanted if _is_family(name)]
    for py in MODELS_DIR.parent.rglob("*.py"):
        if MODELS_DIR not in py.parents:
            todo += families_imported_by(py)
    keep: set[str] = set()
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        for py in (MODELS_DIR / name).glob("*.py"):
            if not py.name.startswith("modular_"):  # the source modeling files are generated from; never imported
                todo += families_imported_by(py)
    return keep


def other_families(keep: set[str]) -> list[str]:
    return sorted(f"transformers.models.{d.name}" for d in MODELS_DIR.iterdir() if _is_family(d.name)
                  and d.name not in keep)
