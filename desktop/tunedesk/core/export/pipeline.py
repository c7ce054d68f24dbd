"""The whole export of one run: merge -> convert (f16 GGUF) -> quantize -> verify (-> base: the base model at
the same quantization, for Chat's compare), reported as stage events.

Everything that can be refused is refused before any work starts: a missing adapter, an architecture the
converter cannot handle, a missing converter, too little disk. Files appear under their final names only
when they are complete and verified: the GGUF is written as ``*.gguf.partial`` and renamed after
verification passed; one that fails is moved aside as ``*.gguf.failed`` next to its report.

Output folder (default RUN_DIR/export/):
    merged/                      Hugging Face folder (safetensors, tokenizer, chat template, model card)
    <run>-<quant>.gguf           the verified GGUF
    Modelfile                    Ollama Modelfile for the latest export (SYSTEM: the run's training prompt)
    <run>-<quant>.chat.json      chat defaults for the GGUF: training system prompt, base at the same quant
    verification.json            the latest export's verification report (and <run>-<quant>.verification.json)
    events.jsonl                 this export's events (kept apart from the run's training events)
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import write_json_atomic, write_text_atomic
from tunedesk.core.chat.companion import GgufCompanion, write_companion
from tunedesk.core.confine import safe_file_stem
from tunedesk.core.data.system_prompt import stored_system_prompt
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.convert import convert_to_gguf
from tunedesk.core.export.diskspace import FreeSpace, check_disk_space, count_params, export_bytes, free_bytes
from tunedesk.core.export.memory_check import AvailableRam, available_ram, check_merge_memory
from tunedesk.core.export.merge import AdapterChoice, choose_adapter, merge_run, merged_is_current
from tunedesk.core.export.modelfile import modelfile_text
from tunedesk.core.export.quantize import quantize_gguf
from tunedesk.core.export.quants import after_failed_verification, get_quant, recommend_quant, unsuited_quants
from tunedesk.core.export.same_quant_base import same_quant_base
from tunedesk.core.export.verify import verify_gguf
from tunedesk.core.runs import RunConfig, RunLayout, load_config
from tunedesk.core.vendor import require_converter

Emit = Callable[..., Any]


@dataclass
class ExportPlan:
    layout: RunLayout
    config: RunConfig
    quant: str
    quant_reason: str
    choice: AdapterChoice
    base_dir: Path
    out_dir: Path
    stem: str
    needed_bytes: int
    reuse_merged: bool
    notes: list[str] = field(default_factory=list)

    @property
    def merged(self) -> Path:
        return self.out_dir / "merged"

    @property
    def gguf(self) -> Path:
        return self.out_dir / f"{self.stem}-{self.quant}.gguf"


def _log_to(emit: Emit) -> Callable[[str], Any]:
    return lambda message: emit("log", message=str(message), level="info")


def plan_export(
    run_dir: str | os.PathLike[str],
    *,
    quant: str | None = None,
    checkpoint: str | None = None,
    out: str | os.PathLike[str] | None = None,
    emit: Emit = lambda *a, **k: None,
    free_space: FreeSpace = free_bytes,
    available: AvailableRam = available_ram,
) -> ExportPlan:
    """Check everything that can be checked before work starts; a TuneDeskError says what is wrong."""
    from tunedesk.core.models.cache import materialize
    from tunedesk.core.models.info import model_info
    from tunedesk.core.models.source import resolve_model

    layout = RunLayout(Path(run_dir))
    config = load_config(layout.root)
    choice = choose_adapter(layout, checkpoint)
    source = resolve_model(
        config.model, allow_pickle=config.allow_pickle, trust_remote_code=config.trust_remote_code
    )
    info = model_info(source)
    if getattr(info, "exportable", None) is False:
        raise TuneDeskError(
            f"This run's base model cannot be exported to GGUF. {getattr(info, 'export_note', '')}".strip(),
            hint="The adapter in the run folder still works with transformers + peft; for a GGUF file, train "
            "a model of an architecture llama.cpp supports (Llama, Qwen, Mistral, Gemma, Phi).",
            kind="not_exportable",
            where={"model": config.model, "architecture": getattr(info, "architecture", None)},
        )
    require_converter()
    if quant:
        q, reason = get_quant(quant).name, "chosen by you"
        unsuited = unsuited_quants(info).get(q)
        if unsuited:  # the user's choice stands; the check after it will say whether the file is good
            reason = f"chosen by you; {unsuited[0].lower()}{unsuited[1:]}"
            emit(
                "log", message=f"{q}: {unsuited} Try {recommend_quant(info).quant} instead.", level="warning"
            )
    else:
        rec = recommend_quant(info)
        q, reason = rec.quant, rec.reason
    out_dir = Path(out) if out else layout.export
    base_dir = choice.path if choice.full_model else materialize(source, log=_log_to(emit))
    reuse = merged_is_current(out_dir / "merged", choice)
    params = count_params(choice.path if choice.full_model else base_dir)
    needed = export_bytes(params, q, merged_exists=reuse)
    check_disk_space(out_dir, needed, free_space)
    if not reuse:
        check_merge_memory(params, available)
    stem = safe_file_stem(config.name or layout.root.name)  # a run's name never becomes a path
    return ExportPlan(layout, config, q, reason, choice, base_dir, out_dir, stem, needed, reuse)


class _Stages:
    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.current = ""

    def start(self, stage: str, message: str) -> None:
        self.current = stage
        self.emit("stage", stage=stage, status="running", fraction=0.0, message=message)

    def progress(self, fraction: float, message: str = "") -> None:
        self.emit("stage", stage=self.current, status="running", fraction=round(fraction, 3), message=message)

    def done(self, message: str, **extra: Any) -> None:
        self.emit("stage", stage=self.current, status="done", fraction=1.0, message=message, **extra)

    def failed(self, message: str, **extra: Any) -> None:
        self.emit("stage", stage=self.current, status="failed", message=message, **extra)


def run_export(plan: ExportPlan, emit: Emit, *, n_prompts: int = 8) -> dict[str, Any]:
    """Carry out a plan; returns the `finished` event's fields (status completed or failed)."""
    started = time.time()
    stages = _Stages(emit)
    log = _log_to(emit)
    out = plan.out_dir
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".work"
    work.mkdir(exist_ok=True)
    result: dict[str, Any] = {
        "quant": plan.quant,
        "checkpoint": plan.choice.checkpoint,
        "merged_path": str(plan.merged),
    }
    try:
        stages.start("merge", f"Merging the {plan.choice.checkpoint} adapter into the base model (fp32)")
        if plan.reuse_merged:
            stages.done(
                "The merged model from an earlier export of this adapter is reused.", path=str(plan.merged)
            )
        else:
            merge_run(plan.layout, plan.config, plan.choice, plan.base_dir, plan.merged, log=log)
            stages.done("Merged model saved.", path=str(plan.merged))

        stages.start("convert", "Converting to GGUF (f16) with llama.cpp's converter")
        f16 = work / f"{plan.stem}-f16.gguf"
        convert_to_gguf(
            plan.merged, f16, log=log, progress=lambda f: stages.progress(f, "Writing the f16 GGUF")
        )
        stages.done(f"f16 GGUF written ({f16.stat().st_size / 2**20:.0f} MB).")

        partial = plan.gguf.with_name(plan.gguf.name + ".partial")
        plan.gguf.unlink(missing_ok=True)  # an older file of this name is about to be replaced
        stages.start("quantize", f"Quantizing to {plan.quant}")
        if plan.quant == "f16":
            os.replace(f16, partial)
            stages.done("f16 needs no quantization.")
        else:
            quantize_gguf(f16, partial, plan.quant)
            f16.unlink(missing_ok=True)
            stages.done(f"{plan.quant} GGUF written ({partial.stat().st_size / 2**20:.0f} MB).")

        stages.start("verify", "Checking the GGUF against the merged model")
        report = verify_gguf(
            partial,
            plan.merged,
            plan.layout.data / "val.jsonl",
            plan.quant,
            cache=work,
            n_prompts=n_prompts,
            progress=lambda f, m: stages.progress(f, m),
        )
        for warning in report.warnings:
            emit("log", message=warning, level="warning")
        report_path = out / "verification.json"
        data = {**report.to_dict(), "gguf": str(plan.gguf), "run_dir": str(plan.layout.root)}
        if not report.passed:
            aside = plan.gguf.with_name(plan.gguf.name + ".failed")
            os.replace(partial, aside)
            data["gguf"] = str(aside)
            write_json_atomic(report_path, data)
            stages.failed("; ".join(report.failures), detail=report.summary)
            raise TuneDeskError(
                "The exported GGUF failed verification: " + " ".join(report.failures),
                hint=f"The file was moved aside as {aside.name}; details are in {report_path}. "
                + after_failed_verification(plan.quant),
                kind="verification_failed",
                where={"file": str(aside)},
            )
        os.replace(partial, plan.gguf)
        write_json_atomic(report_path, data)
        shutil.copyfile(report_path, out / f"{plan.stem}-{plan.quant}.verification.json")
        stages.done("The GGUF passed verification.", detail=report.summary)

        modelfile = out / "Modelfile"
        eot = report.summary["end_of_turn_token"]
        from tunedesk.core.data.render import END_OF_TURN_TOKENS

        template = _merged_template(plan.merged)
        stops = [eot, *(t for t in END_OF_TURN_TOKENS if t in template and t != eot)]
        # The run's training system prompt, not the base model's: None (rows without one) keeps the
        # template's default, which is what those rows were rendered with.
        system_prompt = stored_system_prompt(plan.layout.data)
        text, _facts = modelfile_text(plan.gguf.name, template, stops, eos=eot, system_prompt=system_prompt)
        write_text_atomic(modelfile, text)
        base_gguf = _same_quant_base(plan, stages, emit)
        companion = GgufCompanion(
            system_prompt, str(plan.layout.root), plan.quant, base_gguf, plan.choice.checkpoint
        )
        write_companion(plan.gguf, companion)
        result.update(
            status="completed",
            gguf_path=str(plan.gguf),
            modelfile_path=str(modelfile),
            system_prompt=system_prompt,
            base_gguf_path=base_gguf,
            verification=report.summary,
            verification_path=str(report_path),
            size_bytes=plan.gguf.stat().st_size,
        )
        return result
    finally:
        for leftover in work.glob("*.gguf*"):
            leftover.unlink(missing_ok=True)
        result["elapsed"] = round(time.time() - started, 1)


def _same_quant_base(plan: ExportPlan, stages: _Stages, emit: Emit) -> str | None:
    """The base model at the same quantization, for Chat's compare; its failure never fails the export."""
    if plan.choice.full_model:
        return None  # a full fine-tune's plan has no base folder at hand: the compare says which is which
    stages.start("base", f"Writing the base model at {plan.quant} too, for a fair side-by-side in Chat")
    try:
        path, made = same_quant_base(plan.base_dir, plan.quant, log=_log_to(emit))
    except TuneDeskError as exc:
        stages.failed(f"The base model could not be written at {plan.quant}: {exc.message}")
        return None
    stages.done("Base model written." if made else "Base model at this quantization found in the cache.")
    return str(path)


def _merged_template(merged: Path) -> str:
    jinja = merged / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    import json

    cfg = json.loads((merged / "tokenizer_config.json").read_text(encoding="utf-8"))
    return str(cfg.get("chat_template") or "")
