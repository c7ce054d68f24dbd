"""Checkpoints: complete-or-absent, restore round trip, pruning that never deletes the best."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from tunedesk.core.presets.preset import Preset
from tunedesk.core.runs import RunLayout
from tunedesk.core.training import checkpoints as ckpt
from tunedesk.core.training.model_setup import load_model, pick_precision


def _setup(tiny_model_dir: Path) -> tuple[object, torch.optim.Optimizer, object]:
    preset = Preset(method="lora", target_modules="attention")
    model = load_model(tiny_model_dir, preset, pick_precision(preset, "cpu"))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    for p in params:  # one real update, so optimizer state and weights are non-trivial
        p.grad = torch.randn_like(p)
    opt.step()
    sched.step()
    return model, opt, sched


def test_save_restore_prune_and_best(tmp_path: Path, tiny_model_dir: Path) -> None:
    layout = RunLayout(tmp_path)
    model, opt, sched = _setup(tiny_model_dir)
    for step in (2, 4, 6):
        state = ckpt.TrainerState(step=step, epoch=1, batch_index=step, best_step=2, history=[{"step": 2}])
        path = ckpt.save_checkpoint(layout, model, opt, sched, state)
        assert path == layout.checkpoint(step) and ckpt.read_state(path) == state
    assert ckpt.latest_checkpoint(layout) == layout.checkpoint(6)
    assert not list(layout.checkpoints.glob(".*"))  # no temp folders left behind

    ckpt.copy_best(layout, layout.checkpoint(2))
    assert (layout.best / "adapter_model.safetensors").exists() and not (
        layout.best / "optimizer.pt"
    ).exists()
    assert ckpt.read_state(layout.best).step == 2  # the copy is itself a complete folder

    removed = ckpt.prune(layout, keep=1, best_step=2)
    assert removed == [layout.checkpoint(4)]
    assert [s for s, _ in ckpt.valid_checkpoints(layout)] == [2, 6]

    # Restore into a fresh model: identical adapter weights and optimizer moments.
    fresh, fresh_opt, fresh_sched = _setup(tiny_model_dir)
    state, rng = ckpt.restore(layout.checkpoint(6), fresh, fresh_opt, fresh_sched, None, full=False)
    assert state.step == 6 and "torch" in rng
    for (name, a), (_, b) in zip(model.named_parameters(), fresh.named_parameters(), strict=True):
        if a.requires_grad:
            assert torch.equal(a, b), name
    for sa, sb in zip(opt.state.values(), fresh_opt.state.values(), strict=True):
        assert torch.equal(sa["exp_avg"], sb["exp_avg"])


def test_incomplete_checkpoints_are_ignored(tmp_path: Path, tiny_model_dir: Path) -> None:
    layout = RunLayout(tmp_path)
    model, opt, sched = _setup(tiny_model_dir)
    good = ckpt.save_checkpoint(layout, model, opt, sched, ckpt.TrainerState(step=3))
    # A torn temp folder, a copy without its marker, one with a file missing, one with a garbled state.
    shutil.copytree(good, layout.checkpoints / ".step-9.tmp")
    for step, damage in ((5, "marker"), (7, "file"), (8, "state")):
        target = layout.checkpoint(step)
        shutil.copytree(good, target)
        (target / "COMPLETE").write_text(
            (target / "COMPLETE").read_text().replace('"step": 3', f'"step": {step}')
        )
        (target / "trainer_state.json").write_text(
            (target / "trainer_state.json").read_text().replace('"step": 3', f'"step": {step}')
        )
        if damage == "marker":
            (target / "COMPLETE").unlink()
        elif damage == "file":
            (target / "optimizer.pt").unlink()
        else:
            (target / "trainer_state.json").write_text("{garbled")
    assert [s for s, _ in ckpt.valid_checkpoints(layout)] == [3]
    ckpt.clean_partial(layout)
    assert not (layout.checkpoints / ".step-9.tmp").exists()
