"""Every training method builds, computes a loss and trains on the tiny model; the fast loss is exact."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.training.batching import Batch, collate
from tunedesk.core.training.loss import LossFunction
from tunedesk.core.training.model_setup import (
    check_method_runs_here,
    count_parameters,
    load_model,
    pick_precision,
)


def _batch() -> Batch:
    class Ex:
        def __init__(self, n: int, start: int) -> None:
            self.input_ids = list(range(100, 100 + n))
            self.labels = [-100] * start + self.input_ids[start:]

    return collate([Ex(12, 5), Ex(7, 3)], pad_id=0)


@pytest.mark.parametrize("method", ["lora", "dora", "full", "ia3", "prefix"])
def test_method_trains(method: str, tiny_model_dir: Path) -> None:
    preset = Preset(method=method, target_modules="attention", lora_dropout=0.0)
    torch.manual_seed(0)
    model = load_model(tiny_model_dir, preset, pick_precision(preset, "cpu"))
    trainable, total = count_parameters(model)
    assert 0 < trainable <= total and (trainable == total) == (method == "full")
    loss_fn = LossFunction(model, method)
    assert loss_fn.fast == (method != "prefix")
    batch = _batch()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-2)
    losses = []
    for _ in range(3):
        loss_sum, count = loss_fn(batch)
        assert count == batch.label_tokens == 7 + 4 - 2 + 2  # shifted labels: 11 - 2 rows' first label
        (loss_sum / count).backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
        opt.step()
        opt.zero_grad()
        losses.append(float(loss_sum) / count)
    assert losses[-1] < losses[0]


def test_fast_loss_equals_the_plain_forward(tiny_model_dir: Path) -> None:
    preset = Preset(method="lora", lora_dropout=0.0)
    model = load_model(tiny_model_dir, preset, pick_precision(preset, "cpu")).eval()
    batch = _batch()
    loss_sum, count = LossFunction(model, "lora")(batch)
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits[:, :-1]
    plain = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), batch.labels[:, 1:].reshape(-1)
    )
    assert float(loss_sum) / count == pytest.approx(float(plain), rel=1e-5)


def test_attention_targets_are_the_qkvo_projections(tiny_model_dir: Path) -> None:
    model = load_model(
        tiny_model_dir, Preset(method="lora", target_modules="attention"), pick_precision(Preset(), "cpu")
    )
    adapted = {n.split(".lora_A")[0].rsplit(".", 1)[-1] for n, _ in model.named_parameters() if "lora_A" in n}
    assert adapted == {"q_proj", "k_proj", "v_proj", "o_proj"}


def test_qlora_needs_cuda() -> None:
    with pytest.raises(TuneDeskError) as info:
        check_method_runs_here(Preset(method="qlora"), "cpu", lambda: "use lora")
    assert info.value.kind == "method_unavailable" and info.value.hint == "use lora"
    check_method_runs_here(Preset(method="lora"), "cpu", lambda: "unused")


def test_packed_rows_attend_per_example(tiny_model_dir: Path) -> None:
    """A packed row's loss is the sum of its examples' losses: no example sees the one before it."""
    from tunedesk.core.data.encode import Example
    from tunedesk.core.data.packing import pack_examples

    preset = Preset(method="lora", lora_dropout=0.0)
    model = load_model(tiny_model_dir, preset, pick_precision(preset, "cpu")).eval()
    loss_fn = LossFunction(model, "lora")
    a = Example(list(range(200, 210)), [-100] * 4 + list(range(204, 210)))
    b = Example(list(range(300, 306)), [-100] * 2 + list(range(302, 306)))
    packs = pack_examples([a, b], seq_len=64)
    assert len(packs) == 1
    with torch.no_grad():
        packed, n_packed = loss_fn(collate(packs + [Example([5, 6, 7], [-100, 6, 7])], pad_id=0))
        sep_a, n_a = loss_fn(collate([a], pad_id=0))
        sep_b, n_b = loss_fn(collate([b], pad_id=0))
        third, n_c = loss_fn(collate([Example([5, 6, 7], [-100, 6, 7])], pad_id=0))
    assert n_packed == n_a + n_b + n_c
    assert float(packed) == pytest.approx(float(sep_a + sep_b + third), rel=1e-5)


def test_batched_samples_match_one_by_one(tiny_model_dir: Path) -> None:
    """Left-padded batched generation answers each prompt as it would be answered alone."""
    from tunedesk.core.data.records import Record
    from tunedesk.core.training.loss import sample_answers
    from tunedesk.core.training.model_setup import load_padded_tokenizer

    preset = Preset(method="lora")
    precision = pick_precision(preset, "cpu")
    model = load_model(tiny_model_dir, preset, precision)
    tok = load_padded_tokenizer(tiny_model_dir)
    records = [
        Record(1, "chat", [{"role": "user", "content": "Short?"}, {"role": "assistant", "content": "Yes."}]),
        Record(
            2,
            "chat",
            [
                {"role": "user", "content": "A much longer question " * 5},
                {"role": "assistant", "content": "No."},
            ],
        ),
        Record(3, "text", text="one two three four five six"),
    ]
    together = sample_answers(model, tok, records, 6, precision)
    alone = [sample_answers(model, tok, [r], 6, precision)[0] for r in records]
    assert together == alone
    assert [s["reference"] for s in together] == ["Yes.", "No.", "four five six"]
    assert together[2]["prompt"] == "one two three"
    assert model.training  # back in training mode afterwards


def test_sample_answers_stop_when_asked(tiny_model_dir: Path) -> None:
    """A cancel during the (slow, on a CPU) sample answers cuts them short after one token."""
    from tunedesk.core.data.records import Record
    from tunedesk.core.training.loss import sample_answers
    from tunedesk.core.training.model_setup import load_padded_tokenizer

    preset = Preset(method="lora")
    precision = pick_precision(preset, "cpu")
    model = load_model(tiny_model_dir, preset, precision)
    tok = load_padded_tokenizer(tiny_model_dir)
    record = Record(1, "text", text="one two three four five six")
    full = sample_answers(model, tok, [record], 8, precision)[0]["answer"]
    asked: list[int] = []
    cut = sample_answers(model, tok, [record], 8, precision, stop=lambda: asked.append(1) is None)[0][
        "answer"
    ]
    assert len(tok(full)["input_ids"]) > 1 and len(tok(cut)["input_ids"]) <= 1 and asked


def test_bf16_on_a_cpu_keeps_the_frozen_base_in_bf16_and_the_adapter_in_fp32(tiny_model_dir: Path) -> None:
    from tunedesk.core.training.loss import autocast

    preset = Preset(method="lora", precision="bf16", target_modules="all-linear", lora_dropout=0.0)
    precision = pick_precision(preset, "cpu")
    model = load_model(tiny_model_dir, preset, precision)
    trainable = {p.dtype for p in model.parameters() if p.requires_grad}
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    assert trainable == {torch.float32} and frozen == {torch.bfloat16}
    loss_fn = LossFunction(model, "lora")
    with autocast(precision):
        loss, _ = loss_fn(_batch())
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
    # A full fine-tune trains every weight: those stay fp32 (master weights), computed in bf16.
    assert pick_precision(Preset(method="full", precision="bf16"), "cpu").load_dtype == torch.float32
