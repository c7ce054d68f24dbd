"""Rehearsal: the base model answers general prompts itself, and its answers are mixed into training.

Fine-tuning on a narrow task makes a model forget what it could do before. Mixing general rows into training
keeps it, and the most faithful general rows for *this* model are its own answers: no outside data, no
network, any base model. At the first start of a run:

- the base model answers the training prompts it needs (``general_data_fraction`` of the training mix) and a
  fixed subset of the held-out prompts (for the forgetting measure, every run): with llama.cpp when the base
  is a GGUF file (fast on a CPU; one prompt at a time, see `_answer_with_llama`), else with transformers
  (batches of BATCH prompts, adapter disabled: the base itself, on whatever device its weights are on);
- in a data-parallel run rank 0 alone answers and writes, the other ranks wait and read its files;
- a task with more rows than the answers can balance gets each answer several times (general_prompts.repeated)
  and the started event says which share of the mix is general (``general_fraction_used``);
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
from tunedesk.core.faults import maybe_wait
from tunedesk.core.runs import RunConfig, RunLayout
from tunedesk.core.training.control import RunCancelled
from tunedesk.core.training.distributed import World
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
    world: World | None = None,
) -> PreparedData:
    """Mix the base model's general answers into `data.train` and keep the held-out ones for the measure.

    Rank 0 alone answers and writes RUN_DIR/data/general_*.jsonl (and the answers cache) while the other ranks
    of a data-parallel run wait; then every rank reads those files, so all train on the same rows.
    `cancelled()` is asked between batches of answers; when it says yes, RunCancelled (answers so far cached).
    """
    world = world or World()
    preset = config.preset
    model_is_base = not (
        resumed and preset.method == "full"
    )  # a resumed full fine-tune is no longer the base
    train_path, held_path = layout.data / "general_train.jsonl", layout.data / "general_heldout.jsonl"
    # Preference pairs are not answers to imitate: a DPO run mixes nothing in (its forgetting is still measured).
    fraction = preset.general_data_fraction if preset.objective == "sft" else 0.0
    wanted = gp.general_count(len(data.train_records), fraction)

    def stored() -> bool:
        return held_path.exists() and (train_path.exists() or not wanted)

    with world.main_first():
        if world.is_main and not stored() and model_is_base:
            _answer_and_store(config, tokenizer, model, precision, wanted, train_path, held_path, cancelled)
    if not stored():
        log.warning("this resumed run has no stored general rows: no mixing and no forgetting measure")
        return data
    unique = [
        e
        for e in encode_records(
            load_records(train_path) if wanted else [], tokenizer, preset.seq_len
        ).examples
        if e.supervised_tokens
    ]
    general = gp.repeated(unique, wanted)
    used = gp.fraction_used(len(data.train_records), len(general))
    if general:
        log.info(
            "mixing %s general rows (%s answers%s) into %s task rows: %.1f%% of the mix",
            len(general),
            len(unique),
            f", each up to {gp.MAX_COPIES} times" if len(general) > len(unique) else "",
            len(data.train_records),
            100 * used,
        )
    if gp.fraction_note(fraction, used):
        log.warning("%s", gp.fraction_note(fraction, used))
    data.general_examples, data.general_fraction_used = len(general), used  # rows, before any packing
    if preset.packing and general:
        general = pack_examples(general, preset.seq_len)
    data.train = data.train + general
    data.train_tokens += sum(len(ex.input_ids) for ex in general)
    data.general_heldout = load_records(held_path)
    return data


def _answer_and_store(
    config: RunConfig,
    tokenizer: Any,
    model: Any,
    precision: Precision,
    wanted: int,
    train_path: Path,
    held_path: Path,
    cancelled: Callable[[], bool] | None,
) -> None:
    """The base model answers the training and held-out prompts; the rows go to RUN_DIR/data (rank 0 only)."""
    prompts = gp.load_general_prompts()
    train_prompts = gp.pick_training_prompts(prompts, wanted, config.preset.seed)
    held_prompts = gp.pick_heldout_prompts(prompts)
    answers = base_answers(
        config, tokenizer, model, precision, train_prompts + held_prompts, cancelled=cancelled
    )
    save_records(gp.answered_records(held_prompts, answers), held_path)
    if wanted:
        save_records(gp.answered_records(train_prompts, answers), train_path)


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
    maybe_wait("slow_general_answers")
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
    """Yield {id: answer} for groups of BATCH prompts, answered one after the other.

    Not batched: llama-cpp-python's Llama answers one sequence at a time (batched decoding of independent
    sequences is llama.cpp's C API and server only: abetlen/llama-cpp-python#771, open). The groups only set
    how often progress is reported, the cache is written and a cancel is noticed.
    """
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
    device = next(model.parameters()).device
    if device.type != precision.device:
        # A model loaded on the CPU to be sharded later (sharding=fsdp) answers there, in its loaded dtype: the
        # whole of it may not fit one GPU.
        precision = Precision(device.type, precision.load_dtype, None, False)
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
                input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=device)
                mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=device)
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
