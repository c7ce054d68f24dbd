"""An Ollama Modelfile for an exported GGUF: the chat template translated to Go-template syntax.

Rather than keeping a table of known templates, the Jinja template is rendered for a conversation whose
contents are unique markers; what lies between the markers is each role's prefix and suffix. The result is
checked by rendering the same conversation through the derived wrappers: a template with logic that plain
wrappers cannot express is reported (no TEMPLATE line: Ollama then falls back to the template stored in the
GGUF) instead of being written wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SYS, U1, A1, U2, A2 = "\x01SYS\x01", "\x01U1\x01", "\x01A1\x01", "\x01U2\x01", "\x01A2\x01"


@dataclass
class Wrappers:
    system: tuple[str, str]
    user: tuple[str, str]
    assistant: tuple[str, str]
    generation: str  # what starts the assistant's answer
    default_system: str | None  # the system prompt the template adds when none is given


def render(
    template: str, messages: list[dict[str, str]], *, bos: str = "", eos: str = "", gen: bool = False
) -> str:
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise ValueError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    return env.from_string(template).render(
        messages=messages,
        bos_token=bos,
        eos_token=eos,
        add_generation_prompt=gen,
        raise_exception=raise_exception,
    )


def _msgs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": r, "content": c} for r, c in pairs]


def derive_wrappers(template: str, *, bos: str = "", eos: str = "") -> Wrappers | None:
    """Each role's prefix/suffix, or None when the template is not a plain per-message wrapper."""
    try:
        full = render(
            template,
            _msgs(("system", SYS), ("user", U1), ("assistant", A1), ("user", U2), ("assistant", A2)),
            bos=bos,
            eos=eos,
        )
        no_gen = render(template, _msgs(("system", SYS), ("user", U1)), bos=bos, eos=eos)
        with_gen = render(template, _msgs(("system", SYS), ("user", U1)), bos=bos, eos=eos, gen=True)
        no_sys = render(template, _msgs(("user", U1)), bos=bos, eos=eos)
    except Exception:  # a template that refuses this conversation (e.g. no system role) cannot be derived
        return None
    cuts = [full.find(m) for m in (SYS, U1, A1, U2, A2)]
    if -1 in cuts or cuts != sorted(cuts) or not with_gen.startswith(no_gen):
        return None
    p0 = full[: cuts[0]]
    p1 = full[cuts[0] + len(SYS) : cuts[1]]
    p2 = full[cuts[1] + len(U1) : cuts[2]]
    p3 = full[cuts[2] + len(A1) : cuts[3]]
    p5 = full[cuts[4] + len(A2) :]
    generation = with_gen[len(no_gen) :]
    a_suffix = p5
    if not p3.startswith(a_suffix) or not p2.endswith(generation):
        return None
    u_prefix = p3[len(a_suffix) :]
    if not p1.endswith(u_prefix):
        return None
    s_suffix = p1[: len(p1) - len(u_prefix)]
    u_suffix = p2[: len(p2) - len(generation)]
    default = None
    user_block = u_prefix + U1 + u_suffix
    if no_sys.endswith(user_block) and len(no_sys) > len(user_block):
        head = no_sys[: -len(user_block)]
        if head.startswith(p0) and head.endswith(s_suffix) and len(head) > len(p0) + len(s_suffix):
            default = head[len(p0) : len(head) - len(s_suffix)]
    w = Wrappers((p0, s_suffix), (u_prefix, u_suffix), (generation, a_suffix), generation, default)
    # Check: the wrappers must reproduce the template's own rendering of the conversation.
    if (
        _apply(w, _msgs(("system", SYS), ("user", U1), ("assistant", A1), ("user", U2), ("assistant", A2)))
        != full
    ):
        return None
    return w


def _apply(w: Wrappers, messages: list[dict[str, str]]) -> str:
    roles = {"system": w.system, "user": w.user, "assistant": w.assistant}
    return "".join(roles[m["role"]][0] + m["content"] + roles[m["role"]][1] for m in messages)


def _go(text: str) -> str:
    # Literal text in a Go template: only "{{" would start an action.
    return text.replace("{{", '{{ "{{" }}')


def go_template(w: Wrappers) -> str:
    """The Ollama TEMPLATE: no whitespace-trimming markers, since the wrappers' newlines are significant."""
    return (
        "{{ range .Messages }}"
        f'{{{{ if eq .Role "system" }}}}{_go(w.system[0])}{{{{ .Content }}}}{_go(w.system[1])}'
        f'{{{{ else if eq .Role "user" }}}}{_go(w.user[0])}{{{{ .Content }}}}{_go(w.user[1])}'
        f'{{{{ else if eq .Role "assistant" }}}}{_go(w.assistant[0])}{{{{ .Content }}}}{_go(w.assistant[1])}'
        "{{ end }}{{ end }}"
        f"{_go(w.generation)}"
    )


def _quote(text: str) -> str:
    return '"""' + text.replace('"""', '\\"\\"\\"') + '"""'


def modelfile_text(
    gguf_name: str,
    chat_template: str,
    stop_tokens: list[str],
    *,
    bos: str = "",
    eos: str = "",
    system_prompt: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The Modelfile's text, and facts about it (template derived or not, the system prompt used)."""
    w = derive_wrappers(chat_template, bos=bos, eos=eos)
    lines = [
        "# Ollama Modelfile written by TuneDesk. Use: ollama create my-model -f Modelfile",
        f"FROM ./{gguf_name}",
    ]
    system = system_prompt if system_prompt is not None else (w.default_system if w else None)
    if w is not None:
        lines.append(f"TEMPLATE {_quote(go_template(w))}")
    else:
        lines.append(
            "# The chat template could not be translated to Ollama's syntax; Ollama uses the one in the GGUF."
        )
    if system:
        lines.append(f"SYSTEM {_quote(system)}")
    for token in dict.fromkeys(t for t in stop_tokens if t):
        lines.append(f'PARAMETER stop "{token}"')
    facts = {
        "template_translated": w is not None,
        "system_prompt": system,
        "stop": list(dict.fromkeys(stop_tokens)),
    }
    return "\n".join(lines) + "\n", facts


def usage_note(modelfile: str | os.PathLike[str], gguf: str | os.PathLike[str]) -> str:
    """How to use the Modelfile with Ollama, said for where the two files are now."""
    modelfile, gguf = Path(modelfile), Path(gguf)
    if modelfile.parent.resolve() == gguf.parent.resolve():
        return (
            f"Ollama Modelfile, already beside {gguf.name}: in that folder run "
            "`ollama create NAME -f Modelfile`."
        )
    return f"Ollama Modelfile: put it beside {gguf.name}, then run `ollama create NAME -f Modelfile` there."
