"""The forgetting measure of every run: how well the model still says what the base model said.

The base model's own answers to held-out general prompts (never trained on; see rehearsal.py) are scored as
a validation set twice at the end of a run: under the tuned adapter and with it switched off (peft's
``disable_adapter``: the base model, in the same process, no second copy). A full fine-tune has no adapter to
switch off: its base score is taken before the first step and kept in RUN_DIR/data/general_loss_base.json.
The difference is what training cost the model's general behaviour; core/report/verdict.py says it in words.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.data.encode import encode_records
from tunedesk.core.data.records import Record
from tunedesk.core.runs import RunLayout
from tunedesk.core.training.loss import LossFunction, validation_loss
from tunedesk.core.training.model_setup import Precision

log = logging.getLogger("tunedesk.training")


# No gradients are kept while measuring, so a wider batch than training's costs little memory and saves time.
MEASURE_BATCH = 8


def general_loss(
    loss_fn: LossFunction,
    tokenizer: Any,
    records: list[Record],
    precision: Precision,
    batch_size: int,
    seq_len: int,
) -> float | None:
    examples = [e for e in encode_records(records, tokenizer, seq_len).examples if e.supervised_tokens]
    examples.sort(key=len)  # similar lengths share a batch: less padding
    batch = max(batch_size, MEASURE_BATCH)
    if loss_fn.objective != "sft":  # a DPO run is still measured by next-token loss on the base's answers
        loss_fn = LossFunction(loss_fn.model, loss_fn.method)
    return validation_loss(loss_fn, examples, batch, tokenizer.pad_token_id, precision)


def _base_file(layout: RunLayout) -> Any:
    return layout.data / "general_loss_base.json"


def _stored_base_loss(layout: RunLayout) -> float | None:
    try:
        return json.loads(_base_file(layout).read_text(encoding="utf-8")).get("general_loss_base")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None


def remember_base_loss(s: Any) -> None:
    """For a model without an adapter to switch off (full fine-tune): score the base before it changes."""
    if hasattr(s.model, "disable_adapter") or not s.data.general_heldout or s.state.step > 0:
        return
    path = _base_file(s.layout)
    if not path.exists():
        loss = general_loss(
            s.loss_fn, s.tokenizer, s.data.general_heldout, s.precision, s.preset.batch_size, s.preset.seq_len
        )
        write_json_atomic(path, {"general_loss_base": loss})


def measure_forgetting(s: Any) -> dict[str, Any] | None:
    """{general_loss_base, general_loss_tuned, prompts, seconds} for a run's Setup `s`; None when nothing to
    measure (no held-out rows, or no step trained)."""
    records = s.data.general_heldout
    if not records or s.state.step == 0:
        return None
    started = time.perf_counter()

    def score() -> float | None:
        return general_loss(
            s.loss_fn, s.tokenizer, records, s.precision, s.preset.batch_size, s.preset.seq_len
        )

    tuned = score()
    if hasattr(s.model, "disable_adapter"):
        with s.model.disable_adapter():
            base = score()
    else:
        base = _stored_base_loss(s.layout)
    seconds = round(time.perf_counter() - started, 2)
    log.info(
        "general loss on %s held-out prompts: base %s, tuned %s (%s s)", len(records), base, tuned, seconds
    )
    return {
        "general_loss_base": base,
        "general_loss_tuned": tuned,
        "prompts": len(records),
        "seconds": seconds,
    }
