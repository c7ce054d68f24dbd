"""How much general data to mix in: the starter model on the sample tickets at several general_data_fraction
values, with the same steps and seed. Prints, per fraction, the task's best validation loss (did it still
learn?) and the general loss increase (how much did it forget?). The default (presets/rules.py,
CHAT_GENERAL_FRACTION) should be the smallest fraction that keeps the increase small without hurting the task.

    PYTHONPATH=desktop python3 bench/forgetting_fraction.py [0 0.1 0.2 0.35]

About 1-2 minutes per fraction on an idle 2-core CPU, plus the base model answering the general prompts once.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "desktop"), str(REPO / "tests")]

from e2e.train_helpers import make_run, of, run_worker  # noqa: E402
from tunedesk.core.offline import enforce_offline  # noqa: E402
from tunedesk.core.paths import sample_dataset  # noqa: E402

SETTINGS = {
    "max_steps": 30, "eval_every": 10, "batch_size": 4, "grad_accum": 2, "seq_len": 256,
    "learning_rate": 2e-4, "sample_prompts": 0, "val_max": 24,
}  # fmt: skip


def main(fractions: list[float]) -> None:
    enforce_offline()
    out = Path(tempfile.mkdtemp(prefix="forgetting-fraction-"))
    print("fraction  general_rows  task_base  task_best  general_base  general_tuned  increase  seconds")
    for fraction in fractions:
        run = make_run(
            out / f"f{fraction}", "starter", sample_dataset(), general_data_fraction=fraction, **SETTINGS
        )
        code, events, _, stderr = run_worker(run, timeout=7200)
        if code:
            print(f"{fraction}: failed\n{stderr[-2000:]}")
            continue
        started, fin = of(events, "started")[0], of(events, "finished")[-1]
        f = fin["forgetting"] or {}
        base, tuned = f.get("general_loss_base"), f.get("general_loss_tuned")
        print(
            f"{fraction:<9} {started['general_examples']:<13} {fin['base_val_loss']:<10.4f} "
            f"{fin['best_val_loss']:<10.4f} {base:<13.4f} {tuned:<14.4f} {tuned - base:<9.4f} {fin['elapsed']:.0f}"
        )


if __name__ == "__main__":
    main([float(x) for x in sys.argv[1:]] or [0.0, 0.1, 0.2, 0.35])
