"""Merge a run's adapter into its base model and save a plain Hugging Face folder (RUN_DIR/export/merged/).

The base is always loaded in fp32, also for QLoRA runs: merging into 4-bit weights would round the adapter's
small updates away. The folder gets the tokenizer with its chat template, a generation config that ends at
the end-of-turn token, and a model card. It is written to a temp folder and renamed into place, so a
``merged/`` folder is complete by construction.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import replace_dir_atomic, write_text_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.model_card import model_card, training_facts
from tunedesk.core.faults import maybe_raise_os_error
from tunedesk.core.runs import RunConfig, RunLayout, file_sha256

SOURCE_FILE = "tunedesk-merge.json"  # what was merged: lets a second export reuse the folder
CHECKPOINTS = ("best", "final")

Log = Callable[[str], Any]


@dataclass
class AdapterChoice:
    path: Path
    checkpoint: str  # best | final
    full_model: bool  # a full fine-tune saves a whole model folder instead of an adapter
    digest: str


def choose_adapter(layout: RunLayout, checkpoint: str | None = None) -> AdapterChoice:
    """The adapter to export: `best/` (default when it exists) or the final `adapter/`."""
    if checkpoint not in (None, *CHECKPOINTS):
        raise TuneDeskError(
            f"Unknown checkpoint '{checkpoint}'.",
            hint="Use --checkpoint best (lowest validation loss) or --checkpoint final (last step).",
            kind="bad_setting",
            where={"field": "checkpoint"},
        )
    folders = {"best": layout.best, "final": layout.adapter}
    order = [checkpoint] if checkpoint else ["best", "final"]
    for name in order:
        folder = folders[name]
        if (folder / "adapter_config.json").is_file():
            return AdapterChoice(folder, name, False, _weights_digest(folder))
        if (folder / "config.json").is_file() and any(folder.glob("*.safetensors")):
            return AdapterChoice(folder, name, True, _weights_digest(folder))
    wanted = " or ".join(f"{folders[n].name}/" for n in order)
    raise TuneDeskError(
        f"The run {layout.root.name} has no trained adapter to export (looked for {wanted} with "
        "adapter_config.json).",
        hint="Finish training first (`tunedesk train` or `tunedesk resume`); with --checkpoint best, a run "
        "needs at least one validation check.",
        kind="missing_adapter",
        where={"folder": str(layout.root)},
    )


def _weights_digest(folder: Path) -> str:
    files = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*config.json"))
    return "-".join(file_sha256(f)[:16] for f in files)


def merged_is_current(merged: Path, choice: AdapterChoice) -> bool:
    try:
        info = json.loads((merged / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return info.get("digest") == choice.digest and (merged / "config.json").is_file()


def end_of_turn_token(tokenizer: Any, template: str) -> str:
    """The token that ends an assistant turn in this template (ChatML: <|im_end|>); else the EOS token."""
    from tunedesk.core.data.render import END_OF_TURN_TOKENS

    vocab = tokenizer.get_vocab()
    for token in END_OF_TURN_TOKENS:
        if token in vocab and token in template:
            return token
    if tokenizer.eos_token:
        return tokenizer.eos_token
    raise TuneDeskError(
        "The model's tokenizer has no end-of-turn or end-of-sequence token, so an exported model would never "
        "stop talking.",
        hint="Train from a model whose tokenizer defines an EOS token (instruct models all do).",
        kind="bad_model",
    )


def merge_run(
    layout: RunLayout,
    config: RunConfig,
    choice: AdapterChoice,
    base_dir: Path,
    merged: Path,
    log: Log = print,
) -> Path:
    """Merge `choice` into the base model in `base_dir`; write the folder `merged` atomically."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tunedesk.core.data.render import chat_template_for

    tmp = merged.with_name(f".{merged.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if choice.full_model:
            log(f"Loading the fully fine-tuned model from {choice.path.name}/")
            model = AutoModelForCausalLM.from_pretrained(choice.path, dtype=torch.float32)
        else:
            from peft import PeftModel

            log(f"Loading the base model in fp32 from {base_dir}")
            base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
            log(f"Applying the {choice.checkpoint} adapter ({choice.path.name}/) and merging it")
            model = PeftModel.from_pretrained(base, choice.path).merge_and_unload()
        # The tokenizer saved with the adapter wins: it carries the template the model was trained with.
        tok_dir = choice.path if (choice.path / "tokenizer_config.json").is_file() else base_dir
        tokenizer = AutoTokenizer.from_pretrained(tok_dir)
        template = chat_template_for(tokenizer)
        tokenizer.chat_template = template
        eot = end_of_turn_token(tokenizer, template)
        eot_id = tokenizer.convert_tokens_to_ids(eot)
        if tokenizer.eos_token != eot:
            # llama.cpp (and so Ollama, LM Studio) stop on the GGUF's EOS token: make it the end of a turn.
            tokenizer.eos_token = eot
        gen = model.generation_config
        gen.eos_token_id = eot_id
        if gen.pad_token_id is None:
            gen.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eot_id
        model.config.eos_token_id = eot_id
        log(f"Saving the merged model ({sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters)")
        model.save_pretrained(tmp, safe_serialization=True)
        maybe_raise_os_error("in_export")  # tests: a disk that fills up under the merged weights
        tokenizer.save_pretrained(tmp)
        facts = training_facts(layout, config)
        write_text_atomic(
            tmp / "README.md",
            model_card(facts, adapter=choice.path, checkpoint=choice.checkpoint, run_dir=layout.root),
        )
        write_text_atomic(
            tmp / SOURCE_FILE,
            json.dumps(
                {"digest": choice.digest, "checkpoint": choice.checkpoint, "end_of_turn": eot}, indent=2
            ),
        )
        replace_dir_atomic(tmp, merged)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return merged
