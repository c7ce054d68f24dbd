"""ChatEngine against a real GGUF file (the starter model): streaming, history, trimming, cancel, stats."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from tunedesk.core.chat import ChatEngine, check_gguf_file
from tunedesk.core.errors import TuneDeskError


@pytest.fixture(scope="module")
def engine(starter_gguf: Path) -> ChatEngine:
    return ChatEngine(starter_gguf, n_ctx=1024, seed=0)


def test_streams_pieces_and_keeps_history(engine: ChatEngine) -> None:
    engine.reset()
    pieces = list(engine.stream("What is the capital of France?", temperature=0.0, max_tokens=24))
    assert len(pieces) > 1 and all(isinstance(p, str) for p in pieces)
    answer = "".join(pieces)
    assert engine.history == [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": answer},
    ]
    st = engine.last_stats
    assert st is not None and 0 < st.tokens <= 24
    assert st.time_to_first_token is not None and st.time_to_first_token > 0
    assert st.tokens_per_second is None or st.tokens_per_second > 0
    assert st.finish_reason in ("stop", "length") and not st.cancelled
    engine.ask("And of Italy?", temperature=0.0, max_tokens=16)
    assert len(engine.history) == 4
    engine.reset()
    assert engine.history == []


def test_uses_the_template_stored_in_the_gguf(engine: ChatEngine) -> None:
    assert engine.chat_template and "<|im_start|>" in engine.chat_template
    # The template's default system prompt is part of what the model sees.
    with_default = engine.count_tokens([{"role": "user", "content": "hi"}])
    with_short = engine.count_tokens([{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}])
    assert with_default > with_short


def test_cancel_stops_mid_answer(engine: ChatEngine) -> None:
    engine.reset()
    pieces = []
    for piece in engine.stream("Write a long story about a dragon.", temperature=0.8, max_tokens=200):
        pieces.append(piece)
        if len(pieces) == 3:
            engine.cancel()
    st = engine.last_stats
    assert st.cancelled and st.finish_reason == "cancelled"
    assert len(pieces) <= 4 and st.tokens < 200
    assert engine.history[-1]["content"] == "".join(pieces)  # what was shown is kept


def test_cancel_from_another_thread(engine: ChatEngine) -> None:
    engine.reset()
    first = threading.Event()
    canceller = threading.Thread(target=lambda: (first.wait(60), engine.cancel()))
    canceller.start()
    count = 0
    for _ in engine.stream("Count from one to one hundred in words.", temperature=0.0, max_tokens=300):
        count += 1
        first.set()
        if count == 1:
            canceller.join(60)  # the cancel has landed before the next token is asked for
    assert engine.last_stats.cancelled and count <= 2


def test_history_is_trimmed_oldest_first_keeping_the_system_prompt(starter_gguf: Path) -> None:
    small = ChatEngine(starter_gguf, n_ctx=256, system_prompt="You answer briefly.")
    assert small.n_ctx == 256  # llama.cpp rounds the context up to a multiple of 256
    questions = ["Tell me about the moon.", "Tell me about the sun.", "Tell me about Mars.", "And Venus?"]
    trimmed = []
    for q in questions:
        small.ask(q, temperature=0.0, max_tokens=60)
        trimmed.append(small.trimmed_turns)
        assert small.last_stats.prompt_tokens + 60 <= small.n_ctx
    assert sum(trimmed) > 0
    assert "Dropped" in small.notice or trimmed[-1] == 0
    msgs = small.messages()
    assert msgs[0] == {"role": "system", "content": "You answer briefly."}
    assert msgs[-2]["content"] == questions[-1]
    assert all(m["content"] != questions[0] for m in msgs)


def test_a_message_too_long_for_the_context_is_refused(starter_gguf: Path) -> None:
    small = ChatEngine(starter_gguf, n_ctx=64)
    with pytest.raises(TuneDeskError) as err:
        small.ask("word " * 400, max_tokens=16)
    assert err.value.kind == "context_overflow"


def test_empty_message_is_refused_and_control_characters_dropped(engine: ChatEngine) -> None:
    engine.reset()
    for empty in ("", "   \n\t", "\x00\x07\x1b"):
        with pytest.raises(TuneDeskError) as err:
            engine.ask(empty, max_tokens=8)
        assert err.value.kind == "empty_message"
    answer = engine.ask("Say\x00 hello\x1b[31m\x07 in one word.", max_tokens=8, temperature=0.0)
    assert isinstance(answer, str)
    assert engine.messages()[-2]["content"] == "Say hello[31m in one word."


def test_not_a_gguf_file(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip file, not a model" * 10)
    with pytest.raises(TuneDeskError) as err:
        ChatEngine(fake)
    assert err.value.kind == "bad_model" and "GGUF" in err.value.message
    assert err.value.where["file"] == str(fake)
    with pytest.raises(TuneDeskError) as err:
        check_gguf_file(tmp_path / "missing.gguf")
    assert err.value.kind == "missing_model"
    with pytest.raises(TuneDeskError) as err:
        check_gguf_file(tmp_path)
    assert "folder" in err.value.message


def test_truncated_gguf_is_an_error_not_a_crash(tmp_path: Path, starter_gguf: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with open(starter_gguf, "rb") as fh:
        cut.write_bytes(fh.read(200_000))
    with pytest.raises(TuneDeskError) as err:
        ChatEngine(cut)
    assert err.value.kind == "bad_model" and "cut.gguf" in err.value.message


def test_importing_the_package_does_not_import_llama_cpp() -> None:
    import subprocess

    code = "import sys, tunedesk.core.chat; print('llama_cpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_gguf_with_a_companion_defaults_to_its_training_prompt(starter_gguf: Path, tmp_path: Path) -> None:
    from tunedesk.core.chat.companion import GgufCompanion, read_companion, write_companion

    gguf = tmp_path / "tuned-q8_0.gguf"
    gguf.symlink_to(starter_gguf)
    assert read_companion(gguf) is None and ChatEngine(gguf, n_ctx=256).system_prompt is None
    write_companion(gguf, GgufCompanion(system_prompt="Answer in one line.", quant="q8_0"))
    assert (tmp_path / "tuned-q8_0.chat.json").is_file()
    engine = ChatEngine(gguf, n_ctx=256)
    assert engine.system_prompt == engine.trained_system_prompt == "Answer in one line."
    assert ChatEngine(gguf, n_ctx=256, system_prompt="Be terse.").system_prompt == "Be terse."
    assert ChatEngine(gguf, n_ctx=256, system_prompt="").system_prompt is None  # the template's own
    (tmp_path / "tuned-q8_0.chat.json").write_text("[1, 2")  # damaged: chat still opens, without defaults
    assert read_companion(gguf) is None and ChatEngine(gguf, n_ctx=256).system_prompt is None
