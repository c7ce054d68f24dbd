"""Learning-rate schedules: the shapes the presets promise."""

from __future__ import annotations

import pytest
import torch

from tunedesk.core.training.schedule import lr_multiplier


def curve(schedule: str, total: int = 100, warmup: float = 0.1, decay: float = 0.2) -> list[float]:
    f = lr_multiplier(schedule, total, warmup, decay)
    return [f(s) for s in range(total)]


@pytest.mark.parametrize("schedule", ["wsd", "cosine", "linear", "constant"])
def test_warmup_rises_linearly_and_no_trained_step_has_zero_lr(schedule: str) -> None:
    c = curve(schedule)
    assert c[:10] == pytest.approx([(s + 1) / 11 for s in range(10)])
    assert all(0 < v <= 1 for v in c)


def test_wsd_holds_then_decays_over_the_last_decay_ratio() -> None:
    c = curve("wsd", total=100, warmup=0.1, decay=0.2)
    assert c[10:80] == [1.0] * 70
    tail = c[80:]
    assert all(a > b for a, b in zip(tail, tail[1:], strict=False))
    assert tail[-1] < 0.1


def test_cosine_and_linear_fall_monotonically_after_warmup() -> None:
    for schedule in ("cosine", "linear"):
        c = curve(schedule, warmup=0.1)[10:]
        assert c[0] == pytest.approx(1.0)
        assert all(a > b for a, b in zip(c, c[1:], strict=False))
        assert c[-1] < 0.05
    # cosine stays higher than linear early on, lower late: the defining difference.
    cos, lin = curve("cosine"), curve("linear")
    assert cos[30] > lin[30] and cos[95] < lin[95]


def test_works_with_lambdalr_and_tiny_runs() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_multiplier("wsd", 3, 0.1, 0.1))
    lrs = []
    for _ in range(3):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert all(lr > 0 for lr in lrs) and lrs[-1] < lrs[0]
    assert lr_multiplier("cosine", 1)(0) > 0


def test_unknown_schedule() -> None:
    with pytest.raises(ValueError):
        lr_multiplier("exponential", 10)
