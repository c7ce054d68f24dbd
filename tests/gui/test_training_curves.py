"""The curves widget draws a DPO run's preference numbers in a plot of their own, and only for DPO runs."""

from __future__ import annotations

from tunedesk.core.protocol import make_event
from tunedesk.ui.widgets.curves import TrainingCurves


def _dpo_events() -> list[dict]:
    prefs = lambda acc, margin: {"preference_accuracy": acc, "reward_margin": margin}  # noqa: E731
    return [
        make_event("started", run_dir="r", total_steps=4, objective="dpo"),
        make_event("eval", step=0, val_loss=0.693, **prefs(0.0, 0.0)),
        *(
            make_event("step", step=i, total_steps=4, loss=0.69 - i / 10, **prefs(0.5, i / 10))
            for i in (1, 2)
        ),
        make_event("eval", step=2, val_loss=0.4, **prefs(0.95, 0.8)),
    ]


def test_a_dpo_run_gets_a_preference_plot(qtbot) -> None:
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.load_events([make_event("step", step=1, total_steps=4, loss=2.0, learning_rate=1e-4)])
    assert curves.preference_plot.isHidden()  # an SFT run has no preference numbers
    curves.load_events(_dpo_events())
    assert not curves.preference_plot.isHidden()
    assert curves.accuracy_points == [(0, 0.0), (2, 0.95)]  # held-out, from the checks
    assert curves.margin_points == [(1, 0.1), (2, 0.2)]  # from the training steps
    assert curves.val_margin_points == [(0, 0.0), (2, 0.8)]  # and from the held-out pairs
    x, y = curves.val_margin_curve.getData()
    assert list(x) == [0, 2] and list(y) == [0.0, 0.8]
    x, y = curves.accuracy_curve.getData()
    assert list(x) == [0, 2] and list(y) == [0.0, 0.95]
    curves.clear()
    assert curves.preference_plot.isHidden() and curves.accuracy_points == []


def test_legends_sit_beside_the_titles_never_on_the_curves(qtbot) -> None:
    """A validation loss that ends high is drawn in the top-right corner, where the legend used to be."""
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.load_events(_dpo_events())
    curves.resize(780, 170)  # three plots side by side: about as narrow as a small screen makes them
    curves.show()
    qtbot.waitExposed(curves)
    # The plots are laid out once their widgets have their size.
    qtbot.waitUntil(lambda: curves.loss_plot.getPlotItem().vb.sceneBoundingRect().height() < 170)
    for plot in (curves.loss_plot, curves.preference_plot):
        item = plot.getPlotItem()
        legend = item.legend.sceneBoundingRect()
        assert legend.width() > 0 and legend.intersected(item.vb.sceneBoundingRect()).isEmpty()
        assert legend.intersected(item.titleLabel.item.sceneBoundingRect()).isEmpty()
        assert plot.rect().contains(legend.toRect())  # all of it shown
