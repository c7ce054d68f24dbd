"""The Ollama Modelfile: a chat template translated to Go-template syntax, checked against the Jinja original."""

from __future__ import annotations

from tunedesk.core.data.render import FALLBACK_CHAT_TEMPLATE
from tunedesk.core.export.modelfile import derive_wrappers, modelfile_text, render

SMOLLM_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

EXPECTED_CHATML = '''# Ollama Modelfile written by TuneDesk. Use: ollama create my-model -f Modelfile
FROM ./tuned-q8_0.gguf
TEMPLATE """{{ range .Messages }}{{ if eq .Role "system" }}<|im_start|>system
{{ .Content }}<|im_end|>
{{ else if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ .Content }}<|im_end|>
{{ end }}{{ end }}<|im_start|>assistant
"""
SYSTEM """You are a helpful AI assistant named SmolLM, trained by Hugging Face"""
PARAMETER stop "<|im_end|>"
'''


def test_chatml_modelfile() -> None:
    text, facts = modelfile_text("tuned-q8_0.gguf", SMOLLM_TEMPLATE, ["<|im_end|>", "<|im_end|>"])
    assert text == EXPECTED_CHATML
    assert facts["template_translated"]
    assert facts["system_prompt"].startswith("You are a helpful AI assistant named SmolLM")


def test_explicit_system_prompt_wins() -> None:
    text, _ = modelfile_text("m.gguf", SMOLLM_TEMPLATE, ["<|im_end|>"], system_prompt="You triage tickets.")
    assert 'SYSTEM """You triage tickets."""' in text


def _go_render(w, messages) -> str:
    """What Ollama's TEMPLATE produces for these messages: the wrappers applied in order, then the prompt."""
    roles = {"system": w.system, "user": w.user, "assistant": w.assistant}
    return "".join(roles[m["role"]][0] + m["content"] + roles[m["role"]][1] for m in messages) + w.generation


def test_translation_matches_the_jinja_rendering() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"},
    ]
    for template, eos in ((SMOLLM_TEMPLATE, ""), (FALLBACK_CHAT_TEMPLATE, "</s>")):
        w = derive_wrappers(template, eos=eos)
        assert w is not None
        assert _go_render(w, messages) == render(template, messages, eos=eos, gen=True)


def test_fallback_template_has_no_default_system_prompt() -> None:
    text, facts = modelfile_text("m.gguf", FALLBACK_CHAT_TEMPLATE, ["</s>"], eos="</s>")
    assert "### Assistant:" in text and "SYSTEM" not in text
    assert 'PARAMETER stop "</s>"' in text


def test_untranslatable_template_is_left_to_ollama() -> None:
    # Content-dependent logic cannot be expressed as fixed wrappers: say so instead of writing it wrong.
    template = "{% for m in messages %}{{ m['content'] | lower }}\n{% endfor %}"
    text, facts = modelfile_text("m.gguf", template, ["<eot>"])
    assert not facts["template_translated"]
    assert "TEMPLATE" not in text.replace("template could not", "") and "FROM ./m.gguf" in text


def test_the_usage_note_does_not_ask_to_move_a_file_already_in_place(tmp_path) -> None:
    from tunedesk.core.export.modelfile import usage_note

    note = usage_note(tmp_path / "Modelfile", tmp_path / "run-q8_0.gguf")
    assert "already beside run-q8_0.gguf" in note and "save it next to" not in note
    elsewhere = usage_note(tmp_path / "other" / "Modelfile", tmp_path / "run-q8_0.gguf")
    assert "put it beside run-q8_0.gguf" in elsewhere
