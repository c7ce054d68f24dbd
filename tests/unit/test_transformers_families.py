"""The installer leaves most of transformers' ~550 model families out (packaging/transformers_families.py).
With every family outside the kept set made unimportable, as it is in the bundle, what the bundle does with
transformers still works: the starter model's tokenizer from its GGUF file (which imports transformers' GGUF
integration, itself importing families by name), and the config of every architecture TuneDesk reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"

BLOCKED_RUN = """
import importlib.abc, sys
sys.path.insert(0, sys.argv[1])
from transformers_families import kept_families, other_families
from tunedesk.core.models.info import GGUF_ARCHS

keep = kept_families(GGUF_ARCHS)
left_out = set(other_families(keep))
assert len(left_out) > 300, len(left_out)  # most families are left out, or this checks nothing


class LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if ".".join(name.split(".")[:3]) in left_out:
            raise ModuleNotFoundError(f"No module named {name!r} (left out of the bundle)")
        return None


sys.meta_path.insert(0, LeftOut())
from transformers import AutoConfig
from tunedesk.core.models.cache import load_tokenizer

tok = load_tokenizer("starter")
assert tok("Hello")["input_ids"], "no tokens"
for model_type, _cls in sorted(set(GGUF_ARCHS.values())):
    AutoConfig.for_model(model_type)
print("ok", len(keep), "kept")
"""


def test_what_the_bundle_does_with_transformers_works_without_the_left_out_families(tmp_path: Path) -> None:
    # An empty model cache, as on a fresh install: the tokenizer then comes from the GGUF file itself.
    env = {**os.environ, "TUNEDESK_MODELS": str(tmp_path / "models")}
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN, str(PACKAGING)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("ok"), proc.stdout
