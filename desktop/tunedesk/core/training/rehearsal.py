"""Rehearsal: the base model answers general prompts itself, and its answers are mixed into training.

Fine-tuning on a narrow task makes a model forget what it could do before. Mixing general rows into training
keeps it, and the most faithful general rows for *this* model are its own answers: no outside data, no
network, any base model. At the first start of a run:

- the base model answers the training prompts it needs (``general_data_fraction`` of the training mix) and a
  fixed subset of the held-out prompts (for the forgetting measure, every run): with llama.cpp when the base
  is a GGUF file (fast on a CPU), else with transformers (batched, adapter disabled: the base itself);
- the answers are cached per base model in ``models_dir()/general_answers/`` (keyed by the base model's
  digest, the prompts file's digest and the generation settings), so a second run pays nothing;
- the rows are stored in RUN_DIR/data/ (general_train.jsonl, general_heldout.jsonl) so a resumed run trains
  and measures on exactly the same rows. Validation stays task-only.

Progress while the base model answers goes out as ``log`` events with ``stage`` and ``fraction`` (protocol).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.data import general_prompts as gp
from tunedesk.core.data.encode import encode_records
from tunedesk.core.data.packing import pack_examples
from tunedesk.core.data.render import chat_template_for
from tunedesk.core.data.split import load_records, save_records
from tunedesk.core.runs import RunConfig, RunLayout
from tunedesk.core.training.control import RunCancelled
from tunedesk.core.training.loss import autocast
from tunedesk.core.training.model_setup import Precision
from tunedesk.core.training.prepare import PreparedData

log = logging.getLogger("tunedesk.training")

STAGE = "general_answers"
# Part of the cache key: changing how answers are made must not reuse old answers.
GENERATION = {"max_tokens": 96, "decoding": "greedy", "version": 1}
BATCH = 8


def add_general_data(
    layout: RunLayout,
    config: RunConfig,
    tokenizer: Any,
    model: Any,
    data: PreparedData,
    precision: Precision,
    *,
    resumed: bool = False,
    cancelled: Callable[[], bool] | None = None,
) -> PreparedData:
    """Mix the base model's general answers into `data.train` and keep the held-out ones for the measure.

    `cancelled()` is asked between batches of answers; when it says yes, RunCancelled (answers so far cached).
    """
    preset = config.preset
    model_is_base = not (
        resumed and preset.method == "full"
    )  # a resumed full fine-tune is no longer the base
    train_path, held_path = layout.data / "general_train.jsonl", layout.data / "general_heldout.jsonl"
    # Preference pairs are not answers to imitate: a DPO run mixes nothing in (its forgetting is still measured).
    fraction = preset.general_data_fraction if preset.objective == "sft" else 0.0
    wanted = gp.general_count(len(data.train_records), fraction)
    if held_path.exists() and (train_path.exists() or not wanted):
        train_records = load_records(train_path) if wanted else []
        held_records = load_records(held_path)
    elif not model_is_base:
        log.warning("this resumed run has no stored general rows: no mixing and no forgetting measure")
        return data
    else:
        prompts = gp.load_general_prompts()
        train_prompts = gp.pick_training_prompts(prompts, wanted, preset.seed)
        if len(train_prompts) < wanted:
            log.warning(
                "general_data_fraction %s asks for %s general rows; %s prompts are available",
                preset.general_data_fraction,
                wanted,
                len(train_prompts),
            )
        held_prompts = gp.pick_heldout_prompts(prompts)
        answers = base_answers(
            config, tokenizer, model, precision, train_prompts + held_prompts, cancelled=cancelled
        )
        train_records = gp.answered_records(train_prompts, answers)
        held_records = gp.answered_records(held_prompts, answers)
        save_records(held_records, held_path)
        if wanted:
            save_records(train_records, train_path)
    general = [
        e for e in encode_records(train_records, tokenizer, preset.seq_len).examples if e.supervised_tokens
    ]
    if preset.packing and general:
        general = pack_examples(general, preset.seq_len)
    if general:
        log.info("mixing %s general rows into %s task rows", len(general), len(data.train))
    data.train = data.train + general
    data.train_tokens += sum(len(ex.input_ids) for ex in general)
    data.general_examples = len(general)
    data.general_heldout = held_records
    return data


def base_answers(
    config: RunConfig,
    tokenizer: Any,
    model: Any,
    precision: Precision,
    prompts: Sequence[gp.GeneralPrompt],
    *,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, str]:
    """{prompt id: the base model's answer}, from the cache where it has them; the rest generated and cached.

    Between batches, a yes from `cancelled()` raises RunCancelled: a start cut short keeps what it made.
    """
    from tunedesk.core.models.source import resolve_model

    source = resolve_model(
        config.model, allow_pickle=config.allow_pickle, trust_remote_code=config.trust_remote_code
    )
    cache = cache_path(source)
    answers = _read_cache(cache)
    missing = [p for p in prompts if p.id not in answers]
    if not missing:
        return answers
    log.info(
        "the base model answers %s general prompts (once per base model; cached)",
        len(missing),
        extra=_progress(0.0),
    )
    if source.is_gguf:
        chunks = _answer_with_llama(source.path, missing)
    else:
        chunks = _answer_with_transformers(model, tokenizer, precision, missing)
    done = 0
    with contextlib.closing(chunks):  # a cancel ends the generator at once: llama.cpp's model freed
        if cancelled is not None and cancelled():
            raise RunCancelled
        for chunk in chunks:
            answers.update(chunk)
            done += len(chunk)
            write_json_atomic(
                cache, {**_read_cache(cache), **answers}
            )  # a cancelled start keeps what it made
            log.info("general answers: %s of %s", done, len(missing), extra=_progress(done / len(missing)))
            if cancelled is not None and cancelled() and done < len(missing):
                log.info("cancel requested while the base model answered general prompts (%s done)", done)
                raise RunCancelled
    return answers


def _progress(fraction: float) -> dict[str, Any]:
    return {"stage": STAGE, "fraction": round(fraction, 3)}


def base_model_digest(source: Any) -> str:
    """The base model's identity: the GGUF file's digest, or the digests of a folder's config and weights."""
    from tunedesk.core.models.cache import gguf_digest

    if source.is_gguf:
        return gguf_digest(source.path)
    h = hashlib.sha256()
    files = sorted(source.path.glob("*.safetensors")) + sorted(source.path.glob("*.bin"))
    for f in [source.path / "config.json", *files]:
        if f.is_file():
            h.update(f.name.encode() + gguf_digest(f).encode())  # size + sampled slices: fast on big files
    return h.hexdigest()[:12]


def cache_path(source: Any) -> Path:
    from tunedesk.core.paths import models_dir

    settings = hashlib.sha256(json.dumps(GENERATION, sort_keys=True).encode()).hexdigest()[:8]
    prompts = gp.file_digest(gp.general_prompts_file())
    return models_dir() / "general_answers" / f"{base_model_digest(source)}-{prompts}-{settings}.json"


def _read_cache(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}  # no cache yet, or a damaged one: answering again is always safe
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _answer_with_llama(path: Path, prompts: Sequence[gp.GeneralPrompt]) -> Any:
    from tunedesk.core.chat import load_llama, physical_cores

    # One core fewer than llama.cpp's default: torch's OpenMP pool lives in this process too, and on a busy
    # 2-core machine two llama.cpp threads spent most of their time in OpenMP barriers (seen: <1 prompt/min).
    llm = load_llama(path, n_ctx=1024, n_threads=max(1, physical_cores() - 1))
    try:
        for start in range(0, len(prompts), BATCH):
            chunk = {}
            for p in prompts[start : start + BATCH]:
                out = llm.create_chat_completion(
                    messages=[{"role": "user", "content": p.prompt}],
                    max_tokens=GENERATION["max_tokens"],
                    temperature=0.0,
                )
                chunk[p.id] = (out["choices"][0]["message"]["content"] or "").strip()
            yield chunk
    finally:
        llm.close()


@torch.no_grad()
def _answer_with_transformers(
    model: Any, tokenizer: Any, precision: Precision, prompts: Sequence[gp.GeneralPrompt]
) -> Any:
    # A fresh adapter is not always the identity (prefix tuning): answer with it switched off.
    off = model.disable_adapter() if hasattr(model, "disable_adapter") else contextlib.nullcontext()
    was_training = model.training
    model.eval()
    template = chat_template_for(tokenizer)
    pad = tokenizer.pad_token_id
    try:
        with off:
            for start in range(0, len(prompts), BATCH):
                batch = prompts[start : start + BATCH]
                ids = [
                    tokenizer(
                        tokenizer.apply_chat_template(
                            [{"role": "user", "content": p.prompt}],
                            chat_template=template,
                            tokenize=False,
                            add_generation_prompt=True,
                        ),
                        add_special_tokens=False,
                    )["input_ids"]
                    for p in batch
                ]
                width = max(len(x) for x in ids)
                input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=precision.device)
                mask = torch.tensor(
                    [[0] * (width - len(x)) + [1] * len(x) for x in ids], device=precision.device
                )
                with autocast(precision):
                    out = model.generate(
                        input_ids=input_ids,
                        attention_mask=mask,
                        max_new_tokens=GENERATION["max_tokens"],
                        do_sample=False,
                        use_cache=True,
                        pad_token_id=pad,
                    )
                yield {
                    p.id: tokenizer.decode(row[width:], skip_special_tokens=True).strip()
                    for p, row in zip(batch, out, strict=True)
                }
    finally:
        model.train(was_training)
