"""The plateau stop rule and the validation cadence, on made-up histories and clocks."""

from __future__ import annotations

import math

from tunedesk.core.training.cadence import SAMPLE_INTERVAL_S, ValidationCadence
from tunedesk.core.training.plateau import MIN_ABSOLUTE, plateau


def history(*losses: float | None) -> list[dict]:
    return [{"step": 0, "val_loss": 9.0}] + [
        {"step": 10 * (i + 1), "val_loss": x} for i, x in enumerate(losses)
    ]


def test_meaningful_improvement_keeps_training() -> None:
    assert plateau(history(2.0, 1.5, 1.2, 1.0), patience=3, min_improvement=0.01) is None


def test_creeping_improvement_is_a_plateau_though_every_check_is_a_new_best() -> None:
    stop = plateau(history(1.0, 0.999, 0.998, 0.997), patience=3, min_improvement=0.01)
    assert stop is not None and stop.best == 0.997 and math.isclose(stop.improvement, 0.003)
    assert "improved by only" in stop.sentence() and "last 3 checks" in stop.sentence()


def test_tiny_losses_need_an_absolute_improvement() -> None:
    # 0.0008 -> 0.0006 is 25% relative, but no answer changes: below MIN_ABSOLUTE it is a plateau.
    assert plateau(history(0.0008, 0.0007, 0.0006), patience=2, min_improvement=0.01) is not None
    assert MIN_ABSOLUTE > 0.0002


def test_rising_loss_stops_and_says_it_did_not_improve() -> None:
    stop = plateau(history(1.0, 1.1), patience=1, min_improvement=0.01)
    assert stop is not None and stop.improvement < 0 and "did not improve" in stop.sentence()


def test_diverged_loss_is_no_improvement() -> None:
    assert plateau(history(1.0, float("nan")), patience=1, min_improvement=0.01) is not None


def test_too_few_checks_patience_zero_and_no_loss_never_stop() -> None:
    assert plateau(history(1.0, 1.0, 1.0), patience=3, min_improvement=0.01) is None  # step 0 does not count
    assert plateau(history(1.0, 1.0, 1.0, 1.0), patience=0, min_improvement=0.01) is None
    assert plateau(history(None, None, None, None), patience=3, min_improvement=0.01) is None


def test_min_improvement_zero_is_the_old_patience_rule() -> None:
    assert plateau(history(1.0, 0.9, 0.8, 0.7), patience=3, min_improvement=0.0) is None
    assert plateau(history(1.0, 1.2, 1.1, 1.05), patience=3, min_improvement=0.0) is not None


def test_explicit_cadence_checks_on_its_steps_with_samples() -> None:
    c = ValidationCadence(eval_every=3, total_steps=9)
    c.record(0.0, 100.0, sampled=True)  # even a costly check does not delay what the user asked for
    assert [s for s in range(1, 10) if c.due(s, 100.0)] == [3, 6, 9]
    assert c.samples_due(3, 100.0)


def test_auto_cadence_keeps_checks_within_the_time_budget() -> None:
    c = ValidationCadence(eval_every=0, total_steps=100)  # every 10 steps
    assert c.every == 10
    c.record(0.0, 50.0, sampled=True, one_off=True)  # the base model's check: a one-off, not the yardstick
    assert c.due(10, 51.0)
    c.record(51.0, 61.0, sampled=False)  # a 10 s check: the next waits for 10 * 85/15 = 56.7 s of training
    assert not c.due(20, 100.0) and c.due(30, 118.0)
    assert not c.due(25, 500.0)  # only on the step grid
    assert c.due(100, 61.0)  # the last step is always checked


def test_auto_cadence_samples_first_last_and_then_at_most_every_interval() -> None:
    c = ValidationCadence(eval_every=0, total_steps=100)
    assert c.samples_due(10, 0.0)
    c.record(0.0, 10.0, sampled=True)
    assert not c.samples_due(20, 10.0 + SAMPLE_INTERVAL_S / 2)
    assert c.samples_due(30, 10.0 + SAMPLE_INTERVAL_S)
    assert c.samples_due(100, 11.0)


def test_several_processes_check_on_steps_alone() -> None:
    c = ValidationCadence(eval_every=0, total_steps=100, time_budget=False)
    c.record(0.0, 100.0, sampled=False)
    assert c.due(10, 100.5)
