"""One run-status vocabulary and one progress model, shared by the worker, the CLI and the GUI."""

from __future__ import annotations

import io

from tunedesk.cli.progress_line import ConsoleProgress
from tunedesk.core import formatting
from tunedesk.core import status as run_status
from tunedesk.core.training.callbacks import dispatch_event
from tunedesk.core.training.progress import RunProgress


def test_exit_codes_round_trip_for_every_finished_status() -> None:
    for status in run_status.FINISHED:
        code = run_status.exit_code(status)
        back = run_status.status_from_exit(code)
        assert back == ("completed" if run_status.is_success(status) else status)
    assert run_status.exit_code("no-such-word") == run_status.EXIT_FAILED
    assert run_status.status_from_exit(-9) is None and run_status.status_from_exit(None) is None


def test_every_status_has_a_label_and_a_sentence() -> None:
    for status in run_status.ALL:
        assert run_status.label(status) != status
        assert run_status.sentence(status)


def test_formatters() -> None:
    assert formatting.duration(5) == "5 s"
    assert formatting.duration(185) == "3 min 05 s"
    assert formatting.duration(3840) == "1 h 04 min"
    assert formatting.duration(None) == "?" and formatting.duration(-1, unknown="–") == "–"
    assert formatting.gb(1536) == "1.5 GB" and formatting.gb(200 * 1024) == "200 GB"


def test_time_left_counts_down_while_training_and_freezes_while_paused() -> None:
    p = RunProgress()
    p.on_start({"total_steps": 10})
    p.on_step({"step": 2, "total_steps": 10, "eta_seconds": 100.0})
    t0 = p._eta_at
    assert abs(p.time_left(now=t0 + 30) - 70) < 1e-6
    p.on_pause({"step": 2})
    left = p.time_left()
    assert p.paused and 0 < left <= 100 and p.time_left(now=t0 + 500) == left
    p.on_resume({"step": 2})
    assert abs(p.time_left(now=p._eta_at + 10) - (left - 10)) < 1e-6
    assert p.fraction == 0.2


def test_best_val_loss_includes_the_step_zero_check() -> None:
    p = RunProgress()
    p.on_eval({"step": 0, "val_loss": 2.5})
    assert p.best_val_loss == 2.5 and p.base_val_loss == 2.5
    p.on_eval({"step": 4, "val_loss": 1.5, "best_val_loss": 1.5, "samples": [{"answer": "x"}]})
    assert p.best_val_loss == 1.5 and p.samples == [{"answer": "x"}]
    p.on_finish({"status": "early_stopped", "steps": 4})
    assert p.fraction == 1.0 and p.time_left() == 0.0


def test_console_line_renders_the_progress_model() -> None:
    out = io.StringIO()
    console = ConsoleProgress(stream=out)
    for ev in (
        {"event": "started", "total_steps": 4, "train_examples": 8, "val_examples": 2},
        {"event": "step", "step": 1, "total_steps": 4, "loss": 1.0, "eta_seconds": 65.0},
        {"event": "finished", "status": "completed", "steps": 4, "elapsed": 70},
    ):
        dispatch_event(console, ev)
    text = out.getvalue()
    assert "step 1/4" in text and "ETA 1 min 05 s" in text
    assert "Training finished after 4 steps (1 min 10 s)." in text


def test_best_so_far_shows_the_step_0_score_until_a_trained_step_has_one() -> None:
    p = RunProgress()
    p.on_start({"total_steps": 10})
    assert p.best_so_far is None
    p.on_eval({"step": 0, "val_loss": 2.5, "best_val_loss": None})  # the trainer's best counts trained steps
    assert (p.best_val_loss, p.best_so_far) == (None, 2.5)
    p.on_eval({"step": 5, "val_loss": 2.7, "best_val_loss": 2.7})
    assert p.best_so_far == 2.7  # the trained model's best, even when the untrained score was lower
