"""`tunedesk doctor [--model M] [--data F] [--json]`: what this machine can do, and what TuneDesk would choose.

Without options it shows the hardware (from the cached probe, see core/hardware/probe.py) and whether the
converter and starter model are installed. With ``--model`` it adds the model's facts and the preset that
`select_preset` picks, with its reasons and memory estimate; ``--data`` sizes that choice to the data.

``--json`` prints one object::

    {"hardware":  HardwareInfo.to_dict() (+ best_device, summary),
     "vendor":    {"folder", "converter", "starter"} (paths or null),
     "model":     {"source": ModelSource.to_dict(), "info": ModelInfo.to_dict()} or null,
     "data":      {"path", "rows", "usable_rows", "problems", "stats": DataStats.to_dict()} or null,
     "selection": Selection.to_dict() (requested, preset, device, reasons, warnings, overridden, estimate)
                  or null,
     "duration":  with --model and --data, core/presets/duration.py's DurationEstimate (tokens_per_second,
                  source, choices: [{key, label, max_steps, seconds}]) for the run's natural length, or null}
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from tunedesk.cli.main import add_command, print_json
from tunedesk.core import vendor
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.formatting import gb as _gb
from tunedesk.core.hardware.info import HardwareInfo
from tunedesk.core.hardware.probe import basic_info, probe_hardware
from tunedesk.core.presets.preset import parse_set_args

HELP = "show this machine's hardware and the preset TuneDesk would choose for a model and dataset"
DESCRIPTION = (
    "Show the hardware TuneDesk found, whether its tools are installed, and, given a model "
    "(and data), the training preset it would choose, why, and how much memory it would need."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "doctor", run=run, help=HELP, description=DESCRIPTION)
    p.add_argument("--model", help="'starter', a model folder, a .gguf file, or an id in the local HF cache")
    p.add_argument(
        "--data", help="a dataset file to size the preset to (implies --model starter if none given)"
    )
    p.add_argument(
        "--preset", default="auto", help="auto (default), a method, a shipped preset or a .toml file"
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a preset field")
    p.add_argument(
        "--refresh", action="store_true", help="probe the hardware again instead of using the cache"
    )
    p.add_argument(
        "--processes", type=int, default=1, metavar="N",
        help="estimate memory for data-parallel training on N processes (one per GPU): the figure is per process",
    )  # fmt: skip
    p.add_argument("--allow-pickle", action="store_true", help="accept a model with only pickle weights")
    p.add_argument("--trust-remote-code", action="store_true", help="accept a model that ships its own code")


def _hardware(refresh: bool) -> tuple[HardwareInfo, str | None]:
    try:
        return probe_hardware(use_cache=not refresh), None
    except TuneDeskError as err:  # doctor must still report what it can when torch itself is broken
        info = basic_info()
        info.notes.append(err.message)
        return info, str(err)


def run(args: argparse.Namespace) -> int:
    from tunedesk.core.models.info import model_info
    from tunedesk.core.models.source import resolve_model
    from tunedesk.core.presets.advise import advise, measure_data

    overrides = parse_set_args(args.set)
    hw, probe_error = _hardware(args.refresh)
    report: dict[str, Any] = {
        "hardware": hw,
        "vendor": vendor.status(),
        "model": None,
        "data": None,
        "selection": None,
        "duration": None,
    }
    model_ref = args.model or ("starter" if args.data else None)
    if model_ref:
        source = resolve_model(
            model_ref, allow_pickle=args.allow_pickle, trust_remote_code=args.trust_remote_code
        )
        info = model_info(source)
        report["model"] = {"source": source, "info": info}
        if args.data:
            report["data"] = measure_data(args.data, source, info)
        if probe_error is None:
            report["selection"] = advise(
                hw, info, report["data"], overrides, requested=args.preset, processes=max(1, args.processes)
            )
            if report["data"]:
                report["duration"] = _duration(report["selection"], report["data"].stats, hw, info)
    if args.json:
        print_json(_jsonable(report))
    else:
        print(format_report(report, model_ref))
    return 0 if probe_error is None else 1


def _duration(selection: Any, stats: Any, hw: HardwareInfo, info: Any) -> dict[str, Any]:
    """Quick-try and full lengths with their times; full is the data's own length (epochs), so a max_steps
    the user chose from these choices does not shrink the choices."""
    from tunedesk.core.presets.duration import estimate_duration

    natural = dataclasses.replace(selection.preset, max_steps=0)
    return dataclasses.asdict(estimate_duration(natural, stats, hw, info, selection.device))


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in report.items()}
    if report["model"]:
        out["model"] = {k: v.to_dict() for k, v in report["model"].items()}
    return out


def _hardware_lines(hw: HardwareInfo) -> list[str]:
    cores = f"{hw.cpu_physical_cores or '?'} cores ({hw.cpu_logical_cores or '?'} threads)"
    flags = ", ".join(hw.cpu_flags) or "no AVX2/AVX-512/AMX"
    lines = [
        f"  {hw.summary()}",
        f"  System     {hw.os} {hw.os_release} ({hw.machine}), Python {hw.python}",
        f"  CPU        {hw.cpu_model}, {cores}; {flags}",
    ]
    if hw.cpu_fp32_gflops and hw.cpu_bf16_gflops:
        faster = "bf16" if hw.cpu_prefers_bf16 else "fp32"
        lines.append(
            f"             one core: fp32 {hw.cpu_fp32_gflops:.0f} GFLOP/s, bf16 {hw.cpu_bf16_gflops:.0f} GFLOP/s "
            f"-> trains in {faster} on the CPU"
        )
    lines.append(f"  Memory     {_gb(hw.ram_total_mb)} RAM, {_gb(hw.ram_available_mb)} free")
    lines.append(f"  Disk       {_gb(hw.disk_free_mb)} free at {hw.disk_path}")
    if hw.cuda:
        for gpu in hw.cuda:
            lines.append(
                f"  GPU {gpu.index}      {gpu.name}, {_gb(gpu.total_mb)} ({_gb(gpu.free_mb)} free), compute "
                f"{gpu.capability}, {'bf16' if gpu.bf16 else 'no bf16'}"
            )
        lines.append(
            f"  QLoRA      {'ready (bitsandbytes 4-bit works)' if hw.bnb_4bit else hw.bnb_error or 'no'}"
        )
    elif hw.mps:
        lines.append(f"  GPU        Apple (Metal), up to {_gb(hw.mps_memory_mb)} of unified memory")
    else:
        lines.append("  GPU        none found (no CUDA or Apple Metal)")
    libs = [("torch", hw.torch), ("transformers", hw.transformers), ("peft", hw.peft)]
    libs += [("llama-cpp-python", hw.llama_cpp), ("bitsandbytes", hw.bitsandbytes)]
    lines.append("  Libraries  " + ", ".join(f"{n} {v or 'not installed'}" for n, v in libs))
    lines += [f"  Note       {n}" for n in hw.notes]
    return lines


def format_report(report: dict[str, Any], model_ref: str | None) -> str:
    hw: HardwareInfo = report["hardware"]
    st = report["vendor"]
    lines = ["Hardware", *_hardware_lines(hw), "", "Tools"]
    lines.append(f"  Converter  {st.converter or 'missing: run `tunedesk setup` (needed to export GGUF)'}")
    lines.append(f"  Starter    {st.starter or 'missing: run `tunedesk setup`'}")
    if report["model"]:
        info = report["model"]["info"]
        lines += ["", f"Model: {info.name}"]
        lines.append(
            f"  {info.architecture or '?'} ({info.model_type}), {info.params / 1e6:,.0f}M parameters, {info.dtype}"
        )
        lines.append(
            f"  {info.num_layers} layers, hidden {info.hidden_size}, {info.num_heads} heads "
            f"({info.num_kv_heads} key/value), vocabulary {info.vocab_size:,}, up to {info.max_positions:,} tokens"
        )
        lines.append(
            f"  {info.size_on_disk_mb:,.0f} MB on disk ({info.weights_format}); chat template: "
            f"{'yes' if info.has_chat_template else 'no'}"
        )
        lines.append(f"  Export     {info.export_note}")
    if report["data"]:
        d, s = report["data"], report["data"].stats
        lines += ["", f"Data: {d.path}"]
        lines.append(
            f"  {d.usable_rows} usable rows of {d.rows}"
            + (f" ({d.problems} problems: see `tunedesk data inspect`)" if d.problems else "")
        )
        lines.append(
            f"  tokens per example: 95% at most {s.p95_tokens}, longest {s.max_tokens}; {s.total_tokens:,} in all"
        )
    sel = report["selection"]
    if sel is not None:
        p, e = sel.preset, sel.estimate
        lines += ["", f"Would train with: {p.name} ({p.method}, {p.precision} on {sel.device})"]
        lines += [f"  - {r}" for r in sel.reasons]
        lines.append(
            f"  Memory     {_gb(e.total_mb)} needed of {_gb(e.available_mb)}: {e.verdict}"
            f"  [weights {_gb(e.weights_mb)}, activations {_gb(e.activations_mb)}, training state "
            f"{_gb(e.adapter_mb + e.gradients_mb + e.optimizer_mb)}, overhead {_gb(e.overhead_mb)}]"
        )
        lines += [f"  Warning    {w}" for w in sel.warnings]
    elif not model_ref:
        lines += [
            "",
            "Add --model starter (or your model) and --data FILE to see the preset TuneDesk would choose.",
        ]
    return "\n".join(lines)
