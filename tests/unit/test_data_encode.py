"""Rendering with the starter model's real tokenizer: labels cover exactly the answers and their
end-of-turn token; raw text is chunked with every token labelled; long rows are cut or dropped and counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedesk.core.data import (
    FALLBACK_CHAT_TEMPLATE,
    Record,
    data_stats,
    encode_record,
    encode_records,
    inspect_dataset,
)
from tunedesk.core.paths import sample_dataset

IGNORE = -100


@pytest.fixture(scope="module")
def tok(starter_tokenizer_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(starter_tokenizer_dir)


def chat(*turns: tuple[str, str]) -> Record:
    return Record(1, "chat", messages=[{"role": r, "content": c} for r, c in turns])


def labelled(tok, example) -> str:
    return tok.decode([t for t in example.labels if t != IGNORE])


def test_labels_are_exactly_the_answer_and_im_end(tok) -> None:
    rec = chat(
        ("system", "Triage."),
        ("user", "My card was charged twice."),
        ("assistant", "[BILLING] Charged twice"),
    )
    (ex,) = encode_record(rec, tok, 512)
    assert len(ex.input_ids) == len(ex.labels) and not ex.truncated
    assert labelled(tok, ex) == "[BILLING] Charged twice<|im_end|>"
    # The labelled tokens are one contiguous run at the end, followed only by the template's newline.
    first = next(i for i, t in enumerate(ex.labels) if t != IGNORE)
    last = max(i for i, t in enumerate(ex.labels) if t != IGNORE)
    assert all(t != IGNORE for t in ex.labels[first : last + 1])
    assert ex.input_ids[last] == tok.convert_tokens_to_ids("<|im_end|>")
    assert tok.decode(ex.input_ids[last + 1 :]) == "\n"
    # The prompt, up to the assistant header, is in the inputs but never in the labels.
    assert tok.decode(ex.input_ids[:first]).endswith("<|im_start|>assistant\n")
    # The whole thing is exactly what the model's template renders.
    assert tok.decode(ex.input_ids) == tok.apply_chat_template(rec.messages, tokenize=False)


def test_every_assistant_turn_is_labelled_in_a_multi_turn_chat(tok) -> None:
    rec = chat(("user", "Hi"), ("assistant", "Hello!"), ("user", "2+2?"), ("assistant", "4"))
    (ex,) = encode_record(rec, tok, 512)
    assert labelled(tok, ex) == "Hello!<|im_end|>4<|im_end|>"


def test_tokenizer_without_chat_template_uses_the_fallback(starter_tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    bare = AutoTokenizer.from_pretrained(starter_tokenizer_dir)
    bare.chat_template = None
    (ex,) = encode_record(chat(("user", "Hi"), ("assistant", "Hello")), bare, 512)
    assert tok_text(bare, ex.input_ids) == "### User:\nHi\n\n### Assistant:\nHello<|im_end|>\n\n"
    assert labelled(bare, ex) == "Hello<|im_end|>"
    assert "eos_token" in FALLBACK_CHAT_TEMPLATE


def tok_text(tok, ids: list[int]) -> str:
    return tok.decode(ids)


def test_long_chat_rows_are_truncated_or_dropped_and_counted(tok) -> None:
    short = chat(("user", "Hi"), ("assistant", "Hello"))
    long_answer = chat(("user", "Write."), ("assistant", "word " * 200))
    long_prompt = chat(("user", "context " * 200), ("assistant", "ok"))
    records = [short, long_answer, long_prompt]
    cut = encode_records(records, tok, 64)
    # The long answer is cut (still teaches something); the long prompt leaves no answer: dropped.
    assert (cut.truncated, cut.dropped, len(cut.examples)) == (1, 1, 2)
    assert all(len(e) <= 64 for e in cut.examples) and cut.examples[1].truncated
    assert len(cut.token_lengths) == 3 and cut.token_lengths[1] > 200
    drop = encode_records(records, tok, 64, drop_long=True)
    assert (drop.truncated, drop.dropped, len(drop.examples)) == (0, 2, 1)


def test_raw_text_is_chunked_with_eos_between_documents(tok) -> None:
    docs = [Record(1, "text", text="alpha beta gamma " * 30), Record(2, "text", text="second document")]
    enc = encode_records(docs, tok, 32)
    ids = [t for e in enc.examples for t in e.input_ids]
    assert all(len(e) == 32 for e in enc.examples[:-1]) and 0 < len(enc.examples[-1]) <= 32
    assert all(e.labels == e.input_ids for e in enc.examples)  # every token is learned
    eos = tok.eos_token_id
    assert ids.count(eos) == 2 and ids[-1] == eos
    first_doc = tok(docs[0].text, add_special_tokens=False)["input_ids"]
    assert ids[: len(first_doc) + 1] == first_doc + [eos]
    assert len(encode_record(docs[0], tok, 32)) == -(-(len(first_doc) + 1) // 32)


def test_data_stats(tok) -> None:
    records = [chat(("user", f"Question {i}?"), ("assistant", "Answer " * (i + 1))) for i in range(20)]
    enc = encode_records(records, tok, 512)
    stats = data_stats(enc)
    assert stats.n_examples == 20 and stats.max_tokens == max(enc.token_lengths)
    assert stats.total_tokens == sum(enc.token_lengths)
    assert 0 < stats.supervised_tokens < stats.total_tokens
    assert sorted(enc.token_lengths)[18] == stats.p95_tokens


def test_quality_report_on_the_sample(tok) -> None:
    report = inspect_dataset(sample_dataset(), tokenizer=tok, seq_len=100)
    d = report.to_dict()
    assert (d["total_rows"], d["usable_rows"], d["data_format"]) == (240, 240, "openai_chat")
    t = d["tokens"]
    assert t["min"] <= t["p50"] <= t["p95"] <= t["max"] and sum(t["counts"]) == 240
    assert (
        len(t["bin_edges"]) == len(t["counts"]) + 1
        and t["bin_edges"][0] == t["min"] < t["max"] < t["bin_edges"][-1]
    )
    assert d["long_rows"] == sum(1 for n in encode_records_lengths(tok) if n > 100) > 0
    assert "truncated" in d["long_action"] and 0 < d["supervised_tokens"] < d["total_tokens"]
    text = report.to_text()
    assert "Longer than seq_len 100" in text and "Suggestions" in text and "raise seq_len" in text


def encode_records_lengths(tok) -> list[int]:
    from tunedesk.core.data import load_dataset

    return encode_records(load_dataset(sample_dataset()).records, tok, 10**6).token_lengths


def test_quality_report_suggests_more_rows_for_a_tiny_set(tmp_path: Path, tok) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text(
        '{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": "d"}\n', encoding="utf-8"
    )
    report = inspect_dataset(path, tokenizer=tok)
    assert any("Only 2 rows" in s and "100+" in s for s in report.suggestions)
    assert report.tokens is not None and report.tokens.min == report.tokens.min > 0


class SlowView:
    """The same real tokenizer seen as a slow one (no offset mapping), to exercise the other labelling path."""

    is_fast = False

    def __init__(self, tok) -> None:
        self._tok = tok

    def __getattr__(self, name: str):
        return getattr(self._tok, name)

    def __call__(self, *args, **kwargs):
        return self._tok(*args, **kwargs)


def test_offsets_and_piecewise_labelling_agree_on_chatml(tok) -> None:
    from tunedesk.core.data import tokenize_chat

    assert tok.is_fast
    rec = chat(
        ("user", "Ticket: order NW-1 late"),
        ("assistant", "[SHIPPING] late"),
        ("user", "ok?"),
        ("assistant", "Yes."),
    )
    assert tokenize_chat(tok, rec.messages) == tokenize_chat(SlowView(tok), rec.messages)


NO_SYSTEM_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_rows_the_template_refuses_are_dropped_and_reported(
    starter_tokenizer_dir: Path, tmp_path: Path
) -> None:
    import json

    from transformers import AutoTokenizer

    from tunedesk.core.errors import TuneDeskError

    strict = AutoTokenizer.from_pretrained(starter_tokenizer_dir)
    strict.chat_template = NO_SYSTEM_TEMPLATE
    with_system = chat(("system", "S"), ("user", "Hi"), ("assistant", "Hello"))
    plain = chat(("user", "Hi again"), ("assistant", "Hello again"))
    enc = encode_records([with_system, plain], strict, 128)
    assert len(enc.examples) == 1 and enc.dropped == 1
    (problem,) = enc.problems
    assert (problem.kind, problem.field) == (
        "template",
        "messages",
    ) and "System role not supported" in problem.message
    with pytest.raises(TuneDeskError, match="System role not supported"):
        encode_records([with_system], strict, 128)
    with pytest.raises(TuneDeskError) as info:
        encode_record(with_system, strict, 128)
    assert info.value.where["line"] == 1

    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(json.dumps({"messages": r.messages}) + "\n" for r in (with_system, plain)), encoding="utf-8"
    )
    report = inspect_dataset(path, tokenizer=strict)
    assert report.usable_rows == 1 and [p.kind for p in report.problems] == ["template"]
