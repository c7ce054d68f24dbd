"""The DPO loss on the tiny model, checked against a hand computation with separate plain models; the
reference of a run that continues an earlier adapter is that adapter, and the live weights come back."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tunedesk.core.data.encode import PairExample, encode_records
from tunedesk.core.data.records import Record
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import PREFERENCE_FIELDS
from tunedesk.core.training.dpo import DPOLoss
from tunedesk.core.training.model_setup import load_model, load_padded_tokenizer, pick_precision

PROMPT = [{"role": "user", "content": "Summarise: the printer is jammed again."}]
PAIRS = [
    (
        "[BUG] Printer jammed | urgency: low",
        "Oh no! I am so sorry to hear that. Have you tried turning it off?",
    ),
    ("[HOWTO] Clear a jam | urgency: medium", "Thanks for reaching out!"),
]


def _pairs(tokenizer) -> list[PairExample]:
    records = [
        Record(i, "pair", messages=[*PROMPT, _answer(c)], rejected=[*PROMPT, _answer(r)])
        for i, (c, r) in enumerate(PAIRS, start=1)
    ]
    examples = encode_records(records, tokenizer, 512).examples
    assert all(isinstance(ex, PairExample) for ex in examples)
    return examples


def _answer(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def _perturb(model) -> None:
    """Move the adapter away from its initial (zero) update, so policy and reference differ."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.2)


def _hand_logp(model, example) -> float:
    """Sum of log p(token) over the labelled tokens, from the model's plain full-vocabulary forward."""
    ids = torch.tensor([example.input_ids])
    logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
    return sum(
        float(logp[pos - 1, token])
        for pos, (token, label) in enumerate(zip(example.input_ids, example.labels, strict=True))
        if label != -100 and pos > 0
    )


def _lora(tiny_model_dir: Path, **fields) -> tuple[object, Preset]:
    preset = Preset(method="lora", lora_dropout=0.0, objective="dpo", **fields)
    torch.manual_seed(0)
    return load_model(tiny_model_dir, preset, pick_precision(preset, "cpu")), preset


def test_dpo_loss_matches_a_hand_computation(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    tokenizer = load_padded_tokenizer(tiny_model_dir)
    pairs = _pairs(tokenizer)
    # Labels cover the final answer only (the prompt is context).
    for pair in pairs:
        assert pair.chosen.labels[: len(pair.chosen.labels) // 3] == [-100] * (len(pair.chosen.labels) // 3)
    model, _ = _lora(tiny_model_dir)
    _perturb(model)
    beta = 0.3
    loss_fn = DPOLoss(model, "lora", beta)
    model.eval()
    batch = loss_fn.collate(pairs, tokenizer.pad_token_id)
    assert batch.label_tokens == 2 and batch.input_ids.shape[0] == 4
    loss_sum, count = loss_fn(batch)
    assert count == 2

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    policy = model.merge_and_unload().eval()  # the same weights as one plain model
    expected, margins, chosen_rewards, rejected_rewards = [], [], [], []
    with torch.no_grad():
        for pair in pairs:
            chosen = beta * (_hand_logp(policy, pair.chosen) - _hand_logp(base, pair.chosen))
            rejected = beta * (_hand_logp(policy, pair.rejected) - _hand_logp(base, pair.rejected))
            expected.append(-math.log(1 / (1 + math.exp(-(chosen - rejected)))))
            margins.append(chosen - rejected)
            chosen_rewards.append(chosen)
            rejected_rewards.append(rejected)
    assert abs(margins[0]) > 0.01  # the perturbation did separate policy from reference
    assert float(loss_sum.detach()) == pytest.approx(sum(expected), rel=1e-4)
    metrics = loss_fn.pop_metrics()
    assert list(metrics) == list(PREFERENCE_FIELDS)
    assert metrics["reward_margin"] == pytest.approx(sum(margins) / 2, rel=1e-4, abs=1e-5)
    assert metrics["preference_accuracy"] == sum(m > 0 for m in margins) / 2
    assert metrics["chosen_reward"] == pytest.approx(sum(chosen_rewards) / 2, rel=1e-4, abs=1e-5)
    assert metrics["rejected_reward"] == pytest.approx(sum(rejected_rewards) / 2, rel=1e-4, abs=1e-5)
    assert loss_fn.pop_metrics() == {}  # popped means gone


def test_a_new_adapter_starts_at_log_2_and_learns_the_preference(tiny_model_dir: Path) -> None:
    tokenizer = load_padded_tokenizer(tiny_model_dir)
    model, _ = _lora(tiny_model_dir)
    loss_fn = DPOLoss(model, "lora", 0.5)
    batch = loss_fn.collate(_pairs(tokenizer), tokenizer.pad_token_id)
    loss_sum, count = loss_fn(batch)
    assert float(loss_sum.detach()) / count == pytest.approx(math.log(2), abs=1e-6)  # policy == reference
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-2)
    for _ in range(5):
        opt.zero_grad()
        loss_sum, count = loss_fn(batch)
        (loss_sum / count).backward()
        opt.step()
    loss_fn.pop_metrics()
    loss_sum, count = loss_fn(batch)
    assert float(loss_sum.detach()) / count < 0.5
    assert loss_fn.pop_metrics()["preference_accuracy"] == 1.0


def test_the_reference_of_a_continued_run_is_the_adapter_it_started_from(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    tokenizer = load_padded_tokenizer(tiny_model_dir)
    sft, _ = _lora(tiny_model_dir)
    _perturb(sft)  # "SFT": an adapter that changes the model
    sft.save_pretrained(tmp_path / "adapter")
    model, _ = _lora(tiny_model_dir, init_adapter=str(tmp_path))  # a run folder: adapter/ is found
    loss_fn = DPOLoss(model, "lora", 0.1, reference_adapter=str(tmp_path))
    batch = loss_fn.collate(_pairs(tokenizer), tokenizer.pad_token_id)
    model.eval()
    with torch.no_grad():
        start = loss_fn.sequence_logps(batch)
        loss_sum, count = loss_fn(batch)
    assert float(loss_sum) / count == pytest.approx(math.log(2), abs=1e-5)  # it starts where SFT ended
    with torch.no_grad():
        base = model.disable_adapter()
        with base:
            plain = loss_fn.sequence_logps(batch)
        assert not torch.allclose(plain, start)  # the SFT adapter is really in use, not the bare base
        _perturb(model)  # train "DPO" away from SFT
        moved = loss_fn.sequence_logps(batch)
        with loss_fn.reference():
            reference = loss_fn.sequence_logps(batch)
        after = loss_fn.sequence_logps(batch)
    assert torch.allclose(reference, start, atol=1e-5)
    assert torch.equal(after, moved)  # the trained weights are back after the reference pass
    assert not torch.allclose(moved, start)


def test_dpo_needs_an_adapter_method() -> None:
    with pytest.raises(TuneDeskError) as info:
        Preset(method="full", objective="dpo").validate()
    assert info.value.where["field"] == "method"
    with pytest.raises(TuneDeskError):
        Preset(beta=0).validate()


def test_pair_data_is_marked_for_the_preset_and_a_wrong_objective_says_where_to_fix_it(
    tiny_model_dir: Path,
) -> None:
    """The stats tell select_preset the rows are pairs; the data check's hint fits the GUI and the CLI."""
    from tunedesk.core.data.encode import data_stats
    from tunedesk.core.training.objective import check_data_fits

    tokenizer = load_padded_tokenizer(tiny_model_dir)
    pairs = [Record(1, "pair", messages=[*PROMPT, _answer("A")], rejected=[*PROMPT, _answer("B")])]
    chat = [Record(1, "chat", messages=[*PROMPT, _answer("A")])]
    assert data_stats(encode_records(pairs, tokenizer, 512)).preference
    assert not data_stats(encode_records(chat, tokenizer, 512)).preference
    with pytest.raises(TuneDeskError) as info:
        check_data_fits(pairs, Preset(objective="sft"), "pairs.jsonl")
    assert "Train page" in info.value.hint and "--preset dpo" in info.value.hint
    with pytest.raises(TuneDeskError) as info:
        check_data_fits(chat, Preset(objective="dpo"), "chat.jsonl")
    assert "Train page" in info.value.hint and "objective=sft" in info.value.hint
