"""The forgetting verdict, the fine-tuning advice, and the report built from a run's events."""

from __future__ import annotations

from pathlib import Path

from tunedesk.cli.main import main as cli_main
from tunedesk.core.data.advice import base_already_good, fine_tuning_advice
from tunedesk.core.data.records import Record
from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import EventWriter
from tunedesk.core.report.build import build_report, write_report
from tunedesk.core.report.verdict import forgetting_verdict
from tunedesk.core.runs import RunConfig, create_run


def test_verdict_levels_and_remedy() -> None:
    assert forgetting_verdict(None) is None
    same = forgetting_verdict({"general_loss_base": 1.0, "general_loss_tuned": 1.01})
    assert (
        same.level == "unchanged" and same.remedy == "" and same.text.startswith("General ability: unchanged")
    )
    slight = forgetting_verdict({"general_loss_base": 1.0, "general_loss_tuned": 1.15})
    assert slight.level == "slightly lower" and "general_data_fraction=0.2" in slight.remedy
    much = forgetting_verdict({"general_loss_base": 1.0, "general_loss_tuned": 2.0}, 0.2)
    assert much.level == "much lower" and "general_data_fraction=0.3" in much.remedy
    assert "much lower than the base model" in much.text


def _chat(user: str, answer: str, line: int = 1) -> Record:
    return Record(line, "chat", [{"role": "user", "content": user}, {"role": "assistant", "content": answer}])


def test_advice_for_few_rows_labels_and_copies() -> None:
    kinds = lambda advice: {a.kind for a in advice}  # noqa: E731
    assert kinds(fine_tuning_advice([_chat(f"q{i}", f"a {i}") for i in range(5)])) == {"too_few_rows"}
    labels = [_chat(f"ticket {i}", "spam" if i % 2 else "ham") for i in range(150)]
    assert kinds(fine_tuning_advice(labels)) == {"few_answers"}
    copied = [_chat(f"My order number is X{i} and it is late", f"X{i}") for i in range(150)]
    assert kinds(fine_tuning_advice(copied)) == {"answers_copied"}
    varied = [_chat(f"q{i}", f"a long and different answer {i}") for i in range(150)]
    assert fine_tuning_advice(varied) == []
    assert kinds(fine_tuning_advice(varied, base_val_loss=0.3)) == {"base_already_good"}
    assert base_already_good(0.5) is None and base_already_good(None) is None
    assert "(validation loss 0.30 at step 0)" in base_already_good(0.3).message
    assert all("Chat page" in a.action for a in fine_tuning_advice(labels))


def _fake_run(tmp_path: Path, name: str, tuned: float) -> Path:
    layout = create_run(RunConfig(model="m", data="d.jsonl", name=name, preset=Preset()), tmp_path / name)
    w = EventWriter(None, layout.events)
    w.emit("started", run_dir=str(layout.root), total_steps=4, general_examples=5, train_examples=25)
    sample = {"prompt": "Ticket 1", "reference": "A", "answer": "base says <b>"}
    w.emit("eval", step=0, val_loss=2.5, samples=[sample])
    for step in (1, 2, 3, 4):
        w.emit("step", step=step, total_steps=4, loss=2.0 - step / 10, tokens_per_second=100.0)
    w.emit("eval", step=4, val_loss=0.75, best_val_loss=0.75, samples=[{**sample, "answer": "A"}])
    forgetting = {"general_loss_base": 1.25, "general_loss_tuned": tuned, "prompts": 24, "seconds": 1.5}
    w.emit("finished", status="completed", base_val_loss=2.5, best_val_loss=0.75, steps=4, elapsed=12.0,
           forgetting=forgetting)  # fmt: skip
    return layout.root


def test_report_numbers_are_the_events(tmp_path: Path) -> None:
    run = _fake_run(tmp_path, "one", 1.4)
    report = build_report(run)
    assert report["task"]["base_val_loss"] == 2.5 and report["task"]["best_val_loss"] == 0.75
    assert report["general"]["general_loss_base"] == 1.25 and report["general"]["general_loss_tuned"] == 1.4
    assert report["general"]["general_examples"] == 5 and report["general"]["level"] == "slightly lower"
    assert report["answers"] == [
        {"prompt": "Ticket 1", "reference": "A", "base": "base says <b>", "tuned": "A"}
    ]
    html = write_report(run).read_text(encoding="utf-8")
    assert (
        "<svg" in html
        and "1.4000" in html
        and "1.2500" in html
        and "0.7500" in html
        and "base says &lt;b&gt;" in html
    )
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch: offline


def test_report_cli_one_and_compare(tmp_path: Path, capsys) -> None:
    one, two = _fake_run(tmp_path, "one", 1.5), _fake_run(tmp_path, "two", 1.3)
    assert cli_main(["report", str(one)]) == 0
    out = capsys.readouterr().out
    assert "general loss: base 1.2500, tuned 1.5000" in out and (one / "report.html").is_file()
    compare = tmp_path / "compare.html"
    assert cli_main(["report", str(one), str(two), "--out", str(compare)]) == 0
    out = capsys.readouterr().out
    assert "General loss, tuned" in out and "1.5000" in out and "1.3000" in out
    assert "Runs side by side" in compare.read_text(encoding="utf-8")
    assert cli_main(["report", str(tmp_path / "nope")]) == 2


def test_advice_reaches_the_data_report_and_spares_the_sample(tmp_path: Path) -> None:
    import json

    from tunedesk.core.data import inspect_dataset
    from tunedesk.core.data.loader import load_dataset
    from tunedesk.core.paths import sample_dataset

    assert fine_tuning_advice(load_dataset(sample_dataset()).records) == []
    path = tmp_path / "labels.jsonl"
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"mail {i}"},
                {"role": "assistant", "content": "spam" if i % 2 else "ok"},
            ]
        }
        for i in range(40)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = inspect_dataset(str(path))
    assert any("system prompt" in s and "Chat page" in s for s in report.suggestions)
    # The drafted prompt the Data page offers to try in Chat: the labels, and rows as examples.
    draft = report.to_dict()["try_prompt"]
    assert "one of these labels and nothing else: ok, spam." in draft
    assert "Example 1\nMessage: mail 0\nAnswer: ok" in draft
    assert inspect_dataset(sample_dataset()).try_prompt == ""
