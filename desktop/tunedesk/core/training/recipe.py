"""The training recipe, top to bottom: setup -> fit -> validate -> save.

`setup` turns a run folder into everything a loop needs (model, data, optimizer, schedule, and, when the
folder holds a checkpoint, the exact state to continue from). `fit` runs the optimizer steps, validating and
checkpointing on the way and obeying pause/cancel between steps. It reports only through a TrainingCallback.

One optimizer step = ``grad_accum`` micro-batches of ``batch_size`` examples. The loss of a step is the mean
over every labelled token of its micro-batches (not a mean of per-batch means), so grad_accum does not change
what a step computes, only how much of it is in memory at once. Run data-parallel (core/training/distributed.py),
a step reads one global batch split over the processes and the mean is over every labelled token of all of them.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tunedesk.core.faults import in_step, maybe_crash
from tunedesk.core.presets.preset import Preset
from tunedesk.core.runs import RunConfig, RunLayout, load_config
from tunedesk.core.training import checkpoints as ckpt
from tunedesk.core.training import sharding
from tunedesk.core.training.batching import BatchPlan
from tunedesk.core.training.cadence import ValidationCadence
from tunedesk.core.training.callbacks import TrainingCallback
from tunedesk.core.training.clock import TrainingClock
from tunedesk.core.training.control import Control
from tunedesk.core.training.distributed import World
from tunedesk.core.training.forgetting import measure_forgetting, remember_base_loss
from tunedesk.core.training.loss import LossFunction, autocast, perplexity, sample_answers, validation_sums
from tunedesk.core.training.model_setup import (
    Precision,
    check_method_runs_here,
    count_parameters,
    load_model,
    load_padded_tokenizer,
    pick_device,
    pick_precision,
)
from tunedesk.core.training.objective import loss_function
from tunedesk.core.training.plateau import plateau
from tunedesk.core.training.power import PowerWatch
from tunedesk.core.training.prepare import PreparedData, prepare_data
from tunedesk.core.training.rehearsal import add_general_data
from tunedesk.core.training.resources import memory_mb, oom_error, unavailable_hint
from tunedesk.core.training.resume import restore_newest_good
from tunedesk.core.training.schedule import lr_multiplier
from tunedesk.core.training.write_guard import run_folder_writes

log = logging.getLogger("tunedesk.training")


@dataclass
class Setup:
    layout: RunLayout
    config: RunConfig
    preset: Preset
    precision: Precision
    tokenizer: Any
    model: Any
    loss_fn: LossFunction
    data: PreparedData
    plan: BatchPlan
    total_steps: int
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: Any
    state: ckpt.TrainerState
    resumed_from: int | None
    rng: dict[str, Any] | None  # restored at the last moment, after everything that draws random numbers
    world: World = World()  # this process's rank among the data-parallel processes (a world of one)


def setup(run_dir: str | Path, world: World | None = None, control: Control | None = None) -> Setup:
    """Read the run folder and build the model, data, optimizer and schedule; continue from a checkpoint if any.

    A cancel on `control` while the base model answers general prompts raises RunCancelled (control.py)."""
    world = world or World()
    layout = RunLayout(Path(run_dir))
    config = load_config(layout.root)
    preset = config.preset
    device = pick_device(config.device)
    check_method_runs_here(preset, device, lambda: unavailable_hint(preset, config.model))
    precision = pick_precision(preset, device)
    with world.main_first():  # rank 0 alone cleans up, fills the model cache and writes the data split
        if world.is_main:
            ckpt.clean_partial(layout)
        folder = materialize_model(config)
        tokenizer = load_padded_tokenizer(folder)
        data = prepare_data(layout, config, tokenizer)

    resume_dir = ckpt.latest_checkpoint(layout)
    seed_everything(preset.seed)  # the adapter's initial weights depend on it
    fsdp = sharding.uses_fsdp(preset, world)
    # A full fine-tune's checkpoint is a whole model: load it instead of the base. A model to be sharded stays
    # on the CPU until fully_shard moves each rank's share to the device: the whole may not fit one GPU.
    model = load_model(resume_dir if resume_dir and preset.method == "full" else folder, preset, precision,
        allow_pickle=config.allow_pickle, trust_remote_code=config.trust_remote_code,
        device="cpu" if fsdp else None,
    )  # fmt: skip
    # Rehearsal: the base model's own general answers, mixed in (core/training/rehearsal.py). Rank 0 answers
    # (before sharding: on the whole model, on the CPU where it will be sharded) and the other ranks wait.
    data = add_general_data(layout, config, tokenizer, model, data, precision, resumed=resume_dir is not None,
        cancelled=control.cancel_requested if control is not None else None, world=world,
    )  # fmt: skip
    if fsdp:
        model = sharding.shard_model(model, device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=preset.learning_rate, weight_decay=preset.weight_decay)
    plan = BatchPlan(len(data.train), preset.batch_size * world.size, preset.grad_accum, preset.seed)
    total_steps = plan.total_steps(preset.epochs, preset.max_steps)
    schedule = lr_multiplier(preset.lr_schedule, total_steps, preset.warmup_ratio, preset.decay_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    scaler = torch.amp.GradScaler(device) if precision.use_grad_scaler else None
    state = ckpt.TrainerState(total_steps=total_steps)
    rng = None
    if resume_dir is not None:
        state, rng, resume_dir = restore_newest_good(
            layout, model, optimizer, scheduler, scaler, full=preset.method == "full"
        )
        if state.total_steps != total_steps:
            log.warning(
                "the run planned %s steps, now %s: continuing to %s",
                state.total_steps,
                total_steps,
                total_steps,
            )
            state.total_steps = total_steps
        log.info("resuming from %s (step %s)", resume_dir, state.step)
    return Setup(
        layout, config, preset, precision, tokenizer, model, loss_function(model, preset), data, plan,
        total_steps, optimizer, scheduler, scaler, state, state.step if resume_dir else None, rng, world,
    )  # fmt: skip


def materialize_model(config: RunConfig) -> Path:
    from tunedesk.core.models.cache import materialize
    from tunedesk.core.models.source import resolve_model

    source = resolve_model(
        config.model, allow_pickle=config.allow_pickle, trust_remote_code=config.trust_remote_code
    )
    return Path(materialize(source, log.info))


def seed_everything(seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def fit(s: Setup, callback: TrainingCallback, control: Control) -> str:
    """Train until done, early-stopped or cancelled; returns the finished status."""
    state, preset, layout = s.state, s.preset, s.layout
    # One cadence for all ranks: the time budget is per process, so several processes check on steps alone.
    cadence = ValidationCadence(preset.eval_every, s.total_steps, time_budget=not s.world.distributed)
    pad_id = s.tokenizer.pad_token_id
    trainable, total = count_parameters(s.model)
    callback.on_start(
        {
            "run_dir": str(layout.root),
            "total_steps": s.total_steps,
            "config_digest": s.config.digest(),
            "trainable_params": trainable,
            "total_params": total,
            "train_examples": len(s.data.train),
            "general_examples": s.data.general_examples,
            "general_fraction_used": s.data.general_fraction_used,
            "general_data_fraction": preset.general_data_fraction if preset.objective == "sft" else 0.0,
            "val_examples": len(s.data.val),
            "train_tokens": s.data.train_tokens,
            "device": s.precision.device,
            "method": preset.method,
            "preset": preset.name,
            "resumed_from_step": s.resumed_from,
            "objective": s.loss_fn.objective,
            "system_prompt": s.data.system_prompt,
            "world_size": s.world.size,
        }
    )
    if s.rng is not None:
        ckpt.restore_rng(s.rng)
    clock = TrainingClock(state.elapsed)
    if state.step == 0 and not state.history:
        with clock.not_per_step():
            t0 = clock.total()
            remember_base_loss(s)
            state.base_val_loss = _evaluate(s, callback, control)  # the base model's score: step 0
            cadence.record(t0, clock.total(), sampled=True, one_off=True)
    status, stop = "completed", None
    saved_step = s.resumed_from if s.resumed_from is not None else -1
    s.model.train()
    # Ranks must pause together, and a run over several processes is not on a laptop battery: one process only.
    power = PowerWatch(0 if s.world.distributed else preset.pause_on_battery_below)
    while state.step < s.total_steps:
        s.world.poll_control(control, s.precision.device)
        if power.battery_low():  # checkpoint first: a flat battery must not cost the steps since the last one
            if state.step != saved_step and state.step > 0:
                _save(s, callback, False, clock)
                saved_step = state.step
            callback.on_pause({"step": state.step, "reason": "battery"})
            with clock.paused():
                power.wait_for_mains(control)
            if not control.cancelled:
                callback.on_resume({"step": state.step, "reason": "mains_power"})
        if control.paused:
            callback.on_pause({"step": state.step})
            with clock.paused():
                s.world.wait_while_paused(control, s.precision.device)
            if not control.cancelled:
                callback.on_resume({"step": state.step})
        if control.cancelled:
            status = "cancelled"
            log.info("cancel requested (%s) at step %s", control.cancel_reason, state.step)
            break
        info = _train_step(s, pad_id, clock)
        maybe_crash("crash_after_step", state.step)
        callback.on_step(info)
        evaluated = cadence.due(state.step, clock.total())
        is_best, stop = False, None
        if evaluated:
            t0, sampled = clock.total(), cadence.samples_due(state.step, clock.total())
            _evaluate(s, callback, control, samples=sampled)
            cadence.record(t0, clock.total(), sampled=sampled)
            is_best = state.best_step == state.step
            stop = plateau(state.history, preset.early_stopping_patience, preset.min_improvement)
        if (
            is_best
            or (preset.save_every and state.step % preset.save_every == 0)
            or (evaluated and not preset.save_every)
            or state.step == s.total_steps
        ):
            _save(s, callback, is_best, clock)
            saved_step = state.step
        if stop is not None:
            status = "early_stopped"
            log.info("%s", stop.sentence())
            break
    if state.step != saved_step and state.step > 0:
        _save(s, callback, False, clock)
    final = layout.checkpoint(state.step) if state.step > 0 else None
    fsdp = sharding.is_sharded(s.model)
    weights = sharding.full_adapter_state(s.model) if fsdp and state.step > 0 else None  # all ranks gather
    adapter = _save_final_adapter(s, weights) if state.step > 0 and s.world.is_main else s.layout.adapter
    # FSDP: every rank measures (the forward calls need them all); rank 0 reports.
    forgetting = measure_forgetting(s) if status != "cancelled" and (s.world.is_main or fsdp) else None
    callback.on_finish(
        {
            "status": status,
            "final_checkpoint": str(final) if final else None,
            "best_checkpoint": str(layout.best) if layout.best.is_dir() else None,
            "adapter_path": str(adapter) if adapter else None,
            "best_val_loss": state.best_val_loss,
            "base_val_loss": state.base_val_loss,
            "steps": state.step,
            "elapsed": round(clock.total(), 2),
            "forgetting": forgetting,
            "stop_reason": stop.sentence() if status == "early_stopped" and stop else None,
        }
    )
    return status


def _train_step(s: Setup, pad_id: int, clock: TrainingClock) -> dict[str, Any]:
    """One optimizer step over grad_accum micro-batches; advances the state's data position."""
    state = s.state
    started = time.perf_counter()
    micro = list(s.plan.step_batches(state.epoch, state.batch_index))
    fsdp = sharding.is_sharded(s.model)
    # This rank's part of each global micro-batch (weight 0: a stand-in, so FSDP ranks call forward alike).
    shards = sharding.step_shards(s.world, [idx for _, _, idx in micro], fsdp)
    batches = [(s.loss_fn.collate([s.data.train[i] for i in idx], pad_id), w) for idx, w in shards]
    local = [sum(b.label_tokens * w for b, w in batches), sum(b.real_tokens * w for b, w in batches)]
    n_labels, tokens = (int(v) for v in s.world.sum(local, s.precision.device))
    n_labels = max(1, n_labels)
    params = [p for group in s.optimizer.param_groups for p in group["params"]]
    lr = s.optimizer.param_groups[0]["lr"]
    loss_total = 0.0
    try:
        in_step(state.step + 1)
        for batch, weight in batches:
            batch = batch.to(s.precision.device)
            with autocast(s.precision):
                loss_sum, _ = s.loss_fn(batch)
            loss = loss_sum * weight / n_labels
            (s.scaler.scale(loss) if s.scaler else loss).backward()
            loss_total += weight * float(loss_sum.detach())
        if fsdp:  # FSDP's backward already summed the (sharded) gradients
            loss_total = s.world.sum([loss_total], s.precision.device)[0]
        else:
            loss_total = s.world.sum_gradients(params, loss_total, s.precision.device)
        if s.scaler:
            s.scaler.unscale_(s.optimizer)
        max_norm = s.preset.max_grad_norm if s.preset.max_grad_norm > 0 else float("inf")
        if fsdp:
            grad_norm = sharding.clip_gradients(params, max_norm)
        else:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        if s.scaler:
            s.scaler.step(s.optimizer)
            s.scaler.update()
        else:
            s.optimizer.step()
    except (MemoryError, torch.cuda.OutOfMemoryError) as exc:
        raise oom_error(s.preset, s.precision.device, exc) from None
    s.scheduler.step()
    s.optimizer.zero_grad(set_to_none=True)
    state.epoch, state.batch_index = s.plan.advance(*micro[-1][:2])
    state.step += 1
    state.trained_tokens += tokens  # of all ranks
    clock.add_step(time.perf_counter() - started, tokens)
    mem, peak = memory_mb(s.precision.device)
    return {
        "step": state.step,
        "total_steps": s.total_steps,
        "epoch": round(state.epoch + state.batch_index / s.plan.batches_per_epoch, 4),
        "loss": loss_total / n_labels,
        "learning_rate": lr,
        "grad_norm": grad_norm,
        "tokens_per_second": round(clock.tokens_per_second(), 1),
        "trained_tokens": state.trained_tokens,
        "elapsed": round(clock.total(), 2),
        "eta_seconds": round(clock.seconds_per_step() * (s.total_steps - state.step), 1),
        "memory_mb": mem,
        "peak_memory_mb": peak,
        **s.loss_fn.pop_metrics(),  # DPO: reward margin, preference accuracy
    }


def _evaluate(s: Setup, callback: TrainingCallback, control: Control, samples: bool = True) -> float | None:
    """Validation loss (+ sample answers) at the current step; updates the early-stopping state."""
    state, preset = s.state, s.preset
    # Each rank scores its share of the validation set; the sums are added up, so all ranks hold one score.
    sums = validation_sums(
        s.loss_fn, s.world.shard(s.data.val), preset.batch_size, s.tokenizer.pad_token_id, s.precision
    )
    if sharding.is_sharded(s.model) and s.data.val:  # FSDP: as many forward calls as rank 0
        missing = sharding.missing_forwards(len(s.data.val), s.world, preset.batch_size)
        sharding.idle_forwards(
            s.loss_fn, s.data.val[0], missing, s.tokenizer.pad_token_id, s.precision.device
        )
    total, count = s.world.sum(sums, s.precision.device)
    val_loss = total / count if count else None
    maybe_crash("crash_in_validation", state.step)
    answers = []

    def cancelled() -> bool:
        # Sample answers take long on a CPU: a cancel cuts them short instead of waiting for them.
        control.poll()
        return control.cancelled

    # Rank 0 alone generates: a sharded model cannot (its forward needs every rank), so FSDP runs show none.
    alone = s.world.is_main and not sharding.is_sharded(s.model)
    if samples and preset.sample_prompts > 0 and s.data.val_records and alone and not cancelled():
        records = s.data.val_records[: preset.sample_prompts]
        answers = sample_answers(
            s.model, s.tokenizer, records, preset.sample_max_tokens, s.precision, stop=cancelled
        )
    is_best = False
    if state.step > 0 and val_loss is not None and math.isfinite(val_loss):
        if state.best_val_loss is None or val_loss < state.best_val_loss:
            state.best_val_loss, state.best_step, is_best = val_loss, state.step, True
            state.evals_without_improvement = 0
        else:
            state.evals_without_improvement += 1
    elif state.step > 0 and val_loss is not None:
        state.evals_without_improvement += 1  # a diverged (NaN/inf) loss is no improvement
    state.history.append({"step": state.step, "val_loss": val_loss})
    callback.on_eval(
        {
            "step": state.step,
            "val_loss": val_loss,
            "perplexity": perplexity(val_loss) if s.loss_fn.objective == "sft" else None,
            "is_best": is_best,
            "best_val_loss": state.best_val_loss,
            "samples": answers,
            **s.loss_fn.pop_metrics(),  # DPO: on the held-out pairs
        }
    )
    return val_loss


def _save(s: Setup, callback: TrainingCallback, is_best: bool, clock: TrainingClock) -> Path:
    s.state.elapsed = clock.total()
    full = {}
    if sharding.is_sharded(s.model):  # every rank takes part in gathering the full tensors for rank 0
        full = {"weights": sharding.full_adapter_state(s.model),
                "optimizer_state": sharding.full_optimizer_state(s.optimizer)}  # fmt: skip
    if not s.world.is_main:  # every rank holds the same weights: rank 0 alone writes them
        return s.layout.checkpoint(s.state.step)
    with run_folder_writes(s.layout, f"saving the checkpoint of step {s.state.step}"):
        path = ckpt.save_checkpoint(s.layout, s.model, s.optimizer, s.scheduler, s.state, s.scaler, **full)
        if is_best:
            ckpt.copy_best(s.layout, path)
        ckpt.prune(s.layout, s.preset.keep_checkpoints, s.state.best_step)
    callback.on_checkpoint({"step": s.state.step, "path": str(path), "is_best": is_best})
    return path


def _save_final_adapter(s: Setup, weights: dict[str, torch.Tensor] | None = None) -> Path:
    """RUN_DIR/adapter: the final weights in standard peft format, with the tokenizer beside them."""
    import shutil

    from tunedesk.core.atomic import replace_dir_atomic

    tmp = s.layout.root / ".adapter.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with run_folder_writes(s.layout, "saving the final adapter"):
        s.model.save_pretrained(tmp, safe_serialization=True, **({"state_dict": weights} if weights else {}))
        s.tokenizer.save_pretrained(tmp)
        replace_dir_atomic(tmp, s.layout.adapter)
    return s.layout.adapter
